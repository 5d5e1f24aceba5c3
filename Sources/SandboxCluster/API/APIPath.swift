import Foundation
/// A parsed REST path: `/api/v1/namespaces/NS/pods/NAME/log` and friends.
struct APIPath: Sendable, Equatable {
    var group: String
    var version: String
    var namespace: String?
    var plural: String
    var name: String?
    var subresource: String?

    /// Parses a resource path; `nil` for paths that are not resource paths (discovery, unknown).
    init?(_ path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncodingSafe }
        var rest: ArraySlice<String>
        if segments.first == "api", segments.count >= 3 {
            group = ""
            version = segments[1]
            rest = segments.dropFirst(2)
        } else if segments.first == "apis", segments.count >= 4 {
            group = segments[1]
            version = segments[2]
            rest = segments.dropFirst(3)
        } else {
            return nil
        }
        namespace = nil
        if rest.first == "namespaces", rest.count >= 3, !(rest.count == 3 && ["status", "finalize"].contains(rest[rest.startIndex + 2])) {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first else { return nil }
        self.plural = plural
        rest = rest.dropFirst()
        name = rest.first
        rest = rest.dropFirst()
        subresource = rest.first
        rest = rest.dropFirst()
        // Only `proxy` subresources carry a further path; everything else ends here.
        if !rest.isEmpty, subresource != "proxy" { return nil }
    }
}

extension String {
    /// Percent-decoded, or unchanged when the escapes are malformed.
    var removingPercentEncodingSafe: String { removingPercentEncoding ?? self }
}
