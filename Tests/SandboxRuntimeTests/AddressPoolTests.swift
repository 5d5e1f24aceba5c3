import Testing
@testable import SandboxRuntime

/// Pod addresses are handed out round-robin, like the host-local IPAM plugin: a released one
/// comes back last, so the host's ARP cache never points a new pod's IP at a deleted veth.
@Suite struct AddressPoolTests {
    @Test func startsAtTwoAndDoesNotReuseAReleasedAddressAtOnce() {
        var pool = AddressPool()
        #expect(pool.allocate() == 2)
        #expect(pool.allocate() == 3)
        pool.release(2)
        #expect(pool.allocate() == 4, "the released .0.2 is not handed out again right away")
    }

    @Test func skipsNetworkAndBroadcastAddressesAndWraps() {
        var pool = AddressPool()
        var seen: [Int] = []
        for _ in 0..<260 { if let index = pool.allocate() { seen.append(index) } }
        #expect(!seen.contains(255) && !seen.contains(256))
        #expect(seen.contains(257))
        for index in seen { pool.release(index) }
        // After the last handed out, the search continues upward, then wraps to the start.
        let next = pool.allocate()
        #expect(next == seen.last.map { $0 + 1 })
    }

    @Test func exhaustionIsNil() {
        var pool = AddressPool()
        var count = 0
        while pool.allocate() != nil { count += 1 }
        #expect(count == (2..<65534).filter(AddressPool.isUsable).count)
        pool.release(300)
        #expect(pool.allocate() == 300)
    }
}
