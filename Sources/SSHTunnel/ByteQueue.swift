#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fixed-capacity byte queue for one direction of a splice. Its capacity is the backpressure
/// bound: when it is full the loop stops reading from the side that fills it. The storage comes
/// from malloc so that untouched capacity costs no resident memory.
///
/// A ring: bytes are never moved once read in. (It used to compact by moving the queued bytes to
/// the front whenever the end filled up; in a bulk transfer the reader drains one 32 KiB SSH
/// packet per round from a full 256 KiB queue, so every packet moved 224 KiB — 9% of the I/O
/// thread in `perf`.) The price is that a region may stop at the end of the storage: the rest
/// of the data, or of the free space, is the next region.
final class ByteQueue {
    let capacity: Int
    private var storage: UnsafeMutableRawPointer?
    /// Offset of the oldest queued byte.
    private var head = 0
    /// Queued bytes, from `head`, wrapping at `capacity`.
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a byte queue needs room for at least one byte")
        self.capacity = capacity
    }

    deinit { free(storage) }

    var isEmpty: Bool { count == 0 }
    var freeSpace: Int { capacity - count }

    /// Contiguous space to read into (nil when full); call `commit(_:)` with the bytes written.
    func writableRegion() -> UnsafeMutableRawBufferPointer? {
        guard count < capacity else { return nil }
        if storage == nil { storage = malloc(capacity) }
        guard let base = storage else { return nil }
        let end = head + count
        let tail = end >= capacity ? end - capacity : end
        // Not wrapped: free from the tail to the end of storage. Wrapped: up to the head.
        let length = tail >= head ? capacity - tail : head - tail
        return UnsafeMutableRawBufferPointer(start: base + tail, count: length)
    }

    func commit(_ written: Int) {
        precondition(written >= 0 && written <= freeSpace, "committed more than the writable region")
        count += written
    }

    /// The oldest queued bytes that are contiguous in storage (nil when empty); call
    /// `consume(_:)` with how many were used.
    func readableRegion() -> UnsafeRawBufferPointer? {
        guard let base = storage, count > 0 else { return nil }
        return UnsafeRawBufferPointer(start: base + head, count: min(count, capacity - head))
    }

    func consume(_ read: Int) {
        precondition(read >= 0 && read <= count, "consumed more than is queued")
        count -= read
        head += read
        if head >= capacity { head -= capacity }
        // Empty: start over at the front, so the next region is the whole storage.
        if count == 0 { head = 0 }
    }

    /// Gives the memory back once a splice ends (buffers of idle keep-alive connections stay small).
    func release() {
        free(storage)
        storage = nil
        head = 0
        count = 0
    }
}
