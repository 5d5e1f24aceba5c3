import Foundation
import SystemSupport

/// The host side of the sandbox's network: the bridge, the Service range, and per-pod
/// network namespaces joined to the bridge by veth pairs.
///
/// Pods get routes only to the pod and Service ranges, never a default route, and the host
/// gets an `unreachable` route for the Service range (ClusterIPs it serves are local /32
/// addresses, which win over it): no sandbox packet can leave the machine.
final class HostNetwork: Sendable {
    let network: SandboxNetwork
    private let stateDirectory: URL
    private let addresses = Locked(AddressPool())
    private let serviceAddresses = Locked<Set<String>>([])

    init(network: SandboxNetwork, stateDirectory: URL) {
        self.network = network
        self.stateDirectory = stateDirectory
    }

    /// Creates the bridge and the unreachable route, replacing a bridge left by a crashed run.
    func setUp() async throws {
        try await HostProcess.run(["ip", "link", "del", network.bridgeName], allowFailure: true)
        try await batch([
            "link add \(network.bridgeName) type bridge",
            // A bridge without its own MAC takes the lowest of its ports' and changes it as pods
            // come and go; every running pod's ARP entry for the gateway then points nowhere and
            // its traffic to ClusterIPs is dropped until the entry is re-probed (seconds). Fixed,
            // as the CNI bridge plugin does.
            "link set \(network.bridgeName) address \(bridgeMAC)",
            "addr add \(network.gateway)/16 dev \(network.bridgeName)",
            "link set \(network.bridgeName) up",
            "route replace unreachable \(network.serviceCIDR)",
        ])
    }

    /// A locally administered MAC unique per network slot: 02:73:77 ("sw") and the pod prefix.
    var bridgeMAC: String {
        let octets = network.podPrefix.split(separator: ".").compactMap { UInt8($0) }
        let tail = (octets + [0, 0]).prefix(2).map { String(format: "%02x", $0) }
        return (["02", "73", "77"] + tail + ["01"]).joined(separator: ":")
    }

    /// Removes the bridge (and with it every ClusterIP address) and the unreachable route.
    func tearDown() async {
        _ = try? await HostProcess.run(["ip", "link", "del", network.bridgeName], allowFailure: true)
        _ = try? await HostProcess.run(["ip", "route", "del", "unreachable", network.serviceCIDR], allowFailure: true)
        serviceAddresses.withLock { $0.removeAll() }
    }

    /// Creates the pod's namespace, veth and address; returns the pod IP.
    func addPod(uid: String) async throws -> String {
        let index = try allocateIndex()
        let ip = network.podIP(index: index)
        let names = network.names(forUID: uid)
        do {
            try await batch([
                "netns add \(names.netns)",
                "link add \(names.hostVeth) type veth peer name eth0 netns \(names.netns)",
                "link set \(names.hostVeth) master \(network.bridgeName) up",
            ])
            try await batch([
                "link set lo up",
                "addr add \(ip)/16 dev eth0",
                "link set eth0 up",
                "route add \(network.serviceCIDR) via \(network.gateway)",
            ], netns: names.netns)
        } catch {
            await removePod(uid: uid, ip: ip)
            throw error
        }
        return ip
    }

    /// Removes the pod's namespace and veth and frees its address. Idempotent.
    func removePod(uid: String, ip: String) async {
        let names = network.names(forUID: uid)
        _ = try? await HostProcess.run(["ip", "link", "del", names.hostVeth], allowFailure: true)
        _ = try? await HostProcess.run(["ip", "netns", "del", names.netns], allowFailure: true)
        // The host's ARP entry still names the old veth's MAC; a later pod with this address
        // would be unreachable from the host (probes, ClusterIPs) until it went stale, 15-45 s.
        _ = try? await HostProcess.run(["ip", "neigh", "del", ip, "dev", network.bridgeName], allowFailure: true)
        let parts = ip.split(separator: ".").compactMap { Int($0) }
        if parts.count == 4 { addresses.withLock { $0.release(parts[2] * 256 + parts[3]) } }
    }

    /// The bind-mounted namespace file `ip netns` keeps for the pod.
    func netnsPath(uid: String) -> String { "/run/netns/\(network.names(forUID: uid).netns)" }

    /// Makes exactly `addresses` the ClusterIPs assigned to the bridge.
    func setServiceAddresses(_ addresses: Set<String>) async {
        let current = serviceAddresses.current
        var commands: [String] = []
        for address in addresses.subtracting(current) { commands.append("addr add \(address)/32 dev \(network.bridgeName)") }
        for address in current.subtracting(addresses) { commands.append("addr del \(address)/32 dev \(network.bridgeName)") }
        guard !commands.isEmpty else { return }
        // One address failing (e.g. outside the range) must not stop the others: -force keeps going.
        _ = try? await batch(commands, force: true)
        serviceAddresses.withLock { $0 = addresses }
    }

    private func allocateIndex() throws -> Int {
        guard let index = addresses.withLock({ $0.allocate() }) else {
            throw SandboxRuntimeError.addressesExhausted(cidr: network.podCIDR)
        }
        return index
    }

    /// Runs several `ip` commands in one process (`ip -batch`), which is what keeps pod start fast.
    private func batch(_ commands: [String], netns: String? = nil, force: Bool = false) async throws {
        let file = stateDirectory.appendingPathComponent("ip-batch-\(UUID().uuidString)")
        let text = commands.joined(separator: "\n") + "\n"
        do {
            try Data(text.utf8).write(to: file)
        } catch {
            throw SandboxRuntimeError.fileError(path: file.path, reason: "\(error)")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        var argv = ["ip"]
        if let netns { argv += ["-n", netns] }
        if force { argv.append("-force") }
        argv += ["-batch", file.path]
        try await HostProcess.run(argv)
    }
}

/// Pod address indices (host part of the /16), handed out round-robin like the host-local
/// IPAM plugin: a released address is reused last, so nothing on the host (ARP, conntrack)
/// still remembers its previous pod when it comes back.
struct AddressPool {
    static let lowerBound = 2
    static let upperBound = 65534
    private var used: Set<Int> = []
    /// The index handed out last; starts just below the range, so the first pod gets `.0.2`.
    private var last = upperBound - 1

    /// The next free index after the last one handed out, wrapping; `nil` when all are taken.
    mutating func allocate() -> Int? {
        let span = Self.upperBound - Self.lowerBound
        for offset in 1...span {
            let index = Self.lowerBound + (last - Self.lowerBound + offset) % span
            guard Self.isUsable(index), !used.contains(index) else { continue }
            used.insert(index)
            last = index
            return index
        }
        return nil
    }

    mutating func release(_ index: Int) {
        used.remove(index)
    }

    /// Not the network or broadcast address of any /24 inside the range (as the old allocator).
    static func isUsable(_ index: Int) -> Bool {
        index >= lowerBound && index < upperBound && index % 256 != 0 && index % 256 != 255
    }
}
