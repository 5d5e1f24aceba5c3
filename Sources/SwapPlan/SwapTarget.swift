import KubeModel

/// What `swapdev swap DEPLOYMENT[:CONTAINER]` names: a Deployment and, optionally, one of its containers.
public struct SwapTarget: Sendable, Hashable, CustomStringConvertible {
    /// The Deployment's name.
    public var deployment: String
    /// The container asked for on the command line; `nil` lets ``selectContainer(in:)`` choose.
    public var container: String?

    public init(deployment: String, container: String? = nil) {
        self.deployment = deployment
        self.container = container
    }

    /// Parses `DEPLOYMENT` or `DEPLOYMENT:CONTAINER`.
    ///
    /// Names are checked against the API server's rules up front so that a typo fails before
    /// anything touches the cluster (Deployment: DNS subdomain; container: DNS label).
    public init(parsing text: String) throws(SwapPlanError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let deployment = parts.first, Self.isDNSSubdomain(deployment) else {
            throw .invalidTarget(text)
        }
        var container: String?
        if parts.count == 2 {
            guard Self.isDNSLabel(parts[1]) else { throw .invalidTarget(text) }
            container = parts[1]
        }
        self.init(deployment: deployment, container: container)
    }

    public var description: String { container.map { "\(deployment):\($0)" } ?? deployment }

    /// Checks a namespace name (`-n`) before it becomes part of a request path: an RFC 1123
    /// label, as the API server requires. A typo like `-n my_team` or `-n prodüction` fails here
    /// with one clear line instead of as an odd 404 or a malformed request.
    public static func validateNamespace(_ name: String) throws(SwapPlanError) {
        guard isDNSLabel(name) else { throw .invalidNamespace(name) }
    }

    /// Checks a Deployment name given alone (`swapdev restore NAME`): a DNS subdomain.
    public static func validateDeploymentName(_ name: String) throws(SwapPlanError) {
        guard isDNSSubdomain(name) else { throw .invalidDeploymentName(name) }
    }

    /// The annotation kubectl uses to pick a container when none is named.
    public static let defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

    /// Picks the container to swap in `deployment` (an apps/v1 Deployment object).
    ///
    /// The named container if one was given; otherwise the only container; otherwise the
    /// container the `kubectl.kubernetes.io/default-container` annotation names (on the
    /// Deployment or its pod template). Anything else is an error that lists the containers,
    /// because guessing wrong (TP#1935: env taken from the sidecar) is worse than asking.
    public func selectContainer(in deployment: JSONValue) throws(SwapPlanError) -> String {
        let names = (deployment[path: ["spec", "template", "spec", "containers"]]?.array ?? [])
            .compactMap { $0["name"]?.string }
        guard !names.isEmpty else { throw .noContainers(deployment: self.deployment) }
        if let container {
            guard names.contains(container) else {
                throw .containerNotFound(deployment: self.deployment, container: container, available: names)
            }
            return container
        }
        if names.count == 1, let only = names.first { return only }
        let annotated = deployment[path: ["spec", "template", "metadata", "annotations", Self.defaultContainerAnnotation]]?.string
            ?? deployment[path: ["metadata", "annotations", Self.defaultContainerAnnotation]]?.string
        if let annotated, names.contains(annotated) { return annotated }
        throw .ambiguousContainer(deployment: self.deployment, available: names)
    }

    static func isDNSLabel(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count) else { return false }
        let bytes = Array(name.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func isDNSSubdomain(_ name: String) -> Bool {
        guard (1...253).contains(name.utf8.count) else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
