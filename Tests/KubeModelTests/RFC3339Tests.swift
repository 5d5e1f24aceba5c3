import Foundation
import Testing
@testable import KubeModel

@Suite("RFC 3339 timestamps without Foundation's formatters")
struct RFC3339Tests {
    @Test func writesUTCWholeSecondsLikeTheAPIServer() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_796_526_000.75)) == "2026-12-06T03:00:00Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test func readsWhatItWritesAndWhatFoundationWrites() throws {
        for seconds in [0, 951_782_400, 1_796_526_000, 4_102_444_799] as [TimeInterval] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.date(from: RFC3339.string(from: date)) == date)
            #expect(RFC3339.date(from: ISO8601DateFormatter().string(from: date)) == date)
        }
    }

    @Test func fractionsOffsetsAndLowercaseAreUnderstood() throws {
        let base = try #require(RFC3339.date(from: "2026-12-06T03:40:00Z"))
        #expect(RFC3339.date(from: "2026-12-06T03:40:00.250Z") == base.addingTimeInterval(0.25))
        #expect(RFC3339.date(from: "2026-12-06T04:40:00+01:00") == base)
        #expect(RFC3339.date(from: "2026-12-05T22:10:00-05:30") == base)
        #expect(RFC3339.date(from: "2026-12-06t03:40:00z") == base)
        #expect(RFC3339.date(from: "2026-12-06 03:40:00Z") == base)
    }

    @Test(arguments: ["", "2026-12-06", "2026-12-06T03:40:00", "2026-12-06T03:40:00ZZ", "2026-13-01T00:00:00Z",
                      "2026-02-30T00:00:00Z", "2026-12-06T24:00:00Z", "2026-12-06T03:40:00.Z", "2026-12-06T03:40:00+1:00",
                      "2026-12-06T03:40:60Z", "２０２６-12-06T03:40:00Z", "2026/12/06T03:40:00Z"])
    func malformedTimestampsAreRejected(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }
}
