import Foundation

/// The host side of the sandbox's network: the bridge, the Service range, and per-pod
/// network namespaces joined to the bridge by veth pairs.
///
/// Pods get routes only to the pod and Service ranges, never a default route, and the host
/// gets an `unreachable` route for the Service range (ClusterIPs it serves are local /32
/// addresses, which win over it): no sandbox packet can leave the machine.
final class HostNetwork: Sendable {
    let network: SandboxNetwork
    private let stateDirectory: URL
    private let usedIndices = Locked<Set<Int>>([])
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
            "addr add \(network.gateway)/16 dev \(network.bridgeName)",
            "link set \(network.bridgeName) up",
            "route replace unreachable \(network.serviceCIDR)",
        ])
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
        let parts = ip.split(separator: ".").compactMap { Int($0) }
        if parts.count == 4 { usedIndices.withLock { _ = $0.remove(parts[2] * 256 + parts[3]) } }
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
        try usedIndices.withLock { used in
            for index in 2..<65534 where index % 256 != 0 && index % 256 != 255 && !used.contains(index) {
                used.insert(index)
                return index
            }
            throw SandboxRuntimeError.addressesExhausted(cidr: network.podCIDR)
        }
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
