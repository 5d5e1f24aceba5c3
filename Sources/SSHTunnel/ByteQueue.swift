#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fixed-capacity byte queue for one direction of a splice. Its capacity is the backpressure
/// bound: when it is full the loop stops reading from the side that fills it. The storage comes
/// from malloc so that untouched capacity costs no resident memory.
final class ByteQueue {
    let capacity: Int
    private var storage: UnsafeMutableRawPointer?
    private var head = 0
    private var tail = 0

    init(capacity: Int) { self.capacity = capacity }

    deinit { free(storage) }

    var count: Int { tail - head }
    var isEmpty: Bool { head == tail }
    var freeSpace: Int { capacity - count }

    /// Space to read into; call `commit(_:)` with the bytes actually written.
    func writableRegion() -> UnsafeMutableRawBufferPointer? {
        if storage == nil { storage = malloc(capacity) }
        guard let base = storage else { return nil }
        if head == tail {
            head = 0
            tail = 0
        } else if tail == capacity || (head > capacity / 2) {
            // Compact so the free space is contiguous after the data.
            memmove(base, base + head, tail - head)
            tail -= head
            head = 0
        }
        guard tail < capacity else { return nil }
        return UnsafeMutableRawBufferPointer(start: base + tail, count: capacity - tail)
    }

    func commit(_ written: Int) { tail += written }

    /// The queued bytes; call `consume(_:)` with how many were sent.
    func readableRegion() -> UnsafeRawBufferPointer? {
        guard let base = storage, head < tail else { return nil }
        return UnsafeRawBufferPointer(start: base + head, count: tail - head)
    }

    func consume(_ read: Int) {
        head += read
        if head == tail {
            head = 0
            tail = 0
        }
    }

    /// Gives the memory back once a splice ends (buffers of idle keep-alive connections stay small).
    func release() {
        free(storage)
        storage = nil
        head = 0
        tail = 0
    }
}
