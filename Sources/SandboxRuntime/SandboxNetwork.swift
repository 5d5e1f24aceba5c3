/// The addresses and names the runtime uses on the host.
///
/// The defaults are the documented sandbox ranges. Tests of the runtime use other values so
/// they can run next to a live sandbox on the same machine.
public struct SandboxNetwork: Sendable, Hashable {
    /// The host bridge every pod's veth joins; it also carries the ClusterIPs as /32 addresses.
    public var bridgeName: String
    /// First two octets of the pod /16 (`"10.244"` → pods in 10.244.0.0/16, gateway 10.244.0.1).
    public var podPrefix: String
    /// First two octets of the Service /16 (`"10.96"` → ClusterIPs in 10.96.0.0/16).
    public var servicePrefix: String
    /// Prefix of network-namespace names (`ip netns list`).
    public var namePrefix: String
    /// Prefix of the host ends of pod veth pairs; at most 5 characters (interface names are limited to 15).
    public var vethPrefix: String

    public init(bridgeName: String = "swapdev0", podPrefix: String = "10.244", servicePrefix: String = "10.96",
                namePrefix: String = "swapdev-", vethPrefix: String = "swv") {
        self.bridgeName = bridgeName
        self.podPrefix = podPrefix
        self.servicePrefix = servicePrefix
        self.namePrefix = namePrefix
        self.vethPrefix = String(vethPrefix.prefix(5))
    }

    /// The documented sandbox network: `swapdev0`, pods in 10.244.0.0/16, Services in 10.96.0.0/16,
    /// namespaces `swapdev-<tag>`, veths `swv<tag>`.
    public static let standard = SandboxNetwork()

    /// How many sandboxes can run side by side on one host (see ``slot(_:)``).
    public static let slotCount = 16

    /// The network of the `index`-th sandbox on this host, so that several sandboxes (say,
    /// parallel test suites) never share a bridge or an address: slot 0 is ``standard``;
    /// slot N uses bridge `swapdevN`, pods in 10.(244-N).0.0/16 and Services in 10.(96+N).0.0/16.
    public static func slot(_ index: Int) -> SandboxNetwork {
        guard index > 0 else { return .standard }
        return SandboxNetwork(bridgeName: "swapdev\(index)", podPrefix: "10.\(244 - index)", servicePrefix: "10.\(96 + index)",
                              namePrefix: "swapdev\(index)-", vethPrefix: "sv\(index)")
    }

    /// The pod network's gateway: the host as pods see it.
    public var gatewayAddress: String { gateway }

    /// The ClusterIP of the `kubernetes` Service in `default`: the first Service address.
    public var kubernetesServiceIP: String { "\(servicePrefix).0.1" }

    var gateway: String { "\(podPrefix).0.1" }
    var podCIDR: String { "\(podPrefix).0.0/16" }
    var serviceCIDR: String { "\(servicePrefix).0.0/16" }

    /// The pod address for allocation index `index` (2…65533, skipping .0 and .255).
    func podIP(index: Int) -> String { "\(podPrefix).\(index / 256).\(index % 256)" }

    /// Names derived from a pod UID; short enough for the 15-character interface-name limit.
    func names(forUID uid: String) -> (netns: String, hostVeth: String) {
        let tag = Self.shortTag(uid)
        return ("\(namePrefix)\(tag)", "\(vethPrefix)\(tag)")
    }

    /// 10 hex digits of FNV-1a over the UID: stable, and valid in interface names whatever the UID holds.
    static func shortTag(_ uid: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in uid.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(10))
    }
}
