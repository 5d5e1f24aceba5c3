import Testing
@testable import SSHTunnel

@Suite("Splice byte queue")
struct ByteQueueTests {
    /// Bytes come out in the order they went in, across many wrap-arounds of the ring, with
    /// writers and readers taking uneven chunks — the pattern of a splice whose two sides run
    /// at different speeds.
    @Test func bytesLeaveInOrderAcrossWrapArounds() {
        let queue = ByteQueue(capacity: 1000)
        var generator = SystemRandomNumberGenerator()
        var nextIn: UInt8 = 0
        var nextOut: UInt8 = 0
        var written = 0
        var read = 0
        while read < 200_000 {
            if let region = queue.writableRegion(), Bool.random(using: &generator) {
                let take = Int.random(in: 1...region.count, using: &generator)
                for index in 0..<take {
                    region[index] = nextIn
                    nextIn &+= 1
                }
                queue.commit(take)
                written += take
            } else if let region = queue.readableRegion() {
                let take = Int.random(in: 1...region.count, using: &generator)
                for index in 0..<take {
                    guard region[index] == nextOut else {
                        Issue.record("byte \(read + index): got \(region[index]), expected \(nextOut)")
                        return
                    }
                    nextOut &+= 1
                }
                queue.consume(take)
                read += take
            }
            #expect(queue.count == written - read)
            #expect(queue.count <= queue.capacity)
        }
    }

    /// A full queue offers no space (the splice then stops reading its source); once the reader
    /// takes some, the freed space at the front is offered without moving the queued bytes.
    @Test func aFullQueueOffersSpaceAgainOnlyAfterAReadAndThenAtTheFront() throws {
        let queue = ByteQueue(capacity: 64)
        let all = try #require(queue.writableRegion())
        #expect(all.count == 64)
        let start = try #require(all.baseAddress)
        queue.commit(64)
        #expect(queue.writableRegion() == nil)
        #expect(queue.freeSpace == 0)

        queue.consume(16)
        let front = try #require(queue.writableRegion())
        #expect(front.baseAddress == start)
        #expect(front.count == 16)
        // The unread bytes stay where they are: the readable region still starts at offset 16.
        let unread = try #require(queue.readableRegion())
        #expect(unread.baseAddress == UnsafeRawPointer(start + 16))
        #expect(unread.count == 48)
    }

    /// Emptying the queue starts it over at the front, so the next read gets the whole capacity.
    @Test func anEmptiedQueueOffersItsWholeCapacity() throws {
        let queue = ByteQueue(capacity: 64)
        queue.commit(try #require(queue.writableRegion()).count - 24)
        queue.consume(40)
        #expect(queue.isEmpty)
        #expect(try #require(queue.writableRegion()).count == 64)
        queue.release()
        #expect(queue.readableRegion() == nil)
        #expect(try #require(queue.writableRegion()).count == 64)
    }
}
