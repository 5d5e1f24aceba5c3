import Foundation
import SwapPlan

/// Everything `swapdev swap` was asked to do, already parsed and validated.
public struct SwapOptions: Sendable {
    public var target: SwapTarget
    /// `nil` uses the client's default namespace.
    public var namespace: String?
    /// `--expose [LOCAL:]REMOTE`.
    public var exposes: [PortMapping]
    /// `--to-pod PORT`.
    public var toPod: [Int]
    /// `--env-file`: dotenv output.
    public var envFile: String?
    /// `--env-json`: JSON output.
    public var envJSON: String?
    /// `--mount DIR`: where volumes are copied; `nil` makes a private temp dir.
    public var mountDirectory: String?
    public var proxyImage: String
    /// Limit for each wait (proxy start, readiness, restore).
    public var timeout: Duration
    /// `--run CMD ARG...`; `nil` keeps the swap up until a signal.
    public var command: [String]?
    /// Login users tried on the proxy's sshd, in order: the image's `swapdev`, then `root`
    /// (the sandbox runs the host's sshd as root).
    public var proxyUsers: [String]
    /// Start the SOCKS5/HTTP CONNECT proxy and set ALL_PROXY & co. for the process.
    public var outboundProxy: Bool
    /// `--restore-after`: the proxy's dead-man switch restores the swap after this long without a heartbeat.
    public var restoreAfter: Duration = .seconds(600)
    /// `--force`: swap despite guards that allow it (HPA, KEDA, GitOps, 0 replicas, permissions).
    public var force = false
    /// `env:` of swapdev.yaml: set for the local process over the container's values.
    public var environmentOverrides: [String: String] = [:]
    /// `--watch`: restart the local command when these trees change; `nil` never restarts it.
    public var reload: LocalReload?

    /// The default proxy image: `ghcr.io/swapdev/swapdev-proxy:<version>`.
    public static func defaultProxyImage(version: String = SwapOptions.version) -> String {
        "ghcr.io/swapdev/swapdev-proxy:\(version)"
    }

    /// swapdev's version, which the proxy image tag follows.
    public static let version = "0.1.0"

    public init(
        target: SwapTarget, namespace: String? = nil, exposes: [PortMapping] = [], toPod: [Int] = [],
        envFile: String? = nil, envJSON: String? = nil, mountDirectory: String? = nil,
        proxyImage: String = SwapOptions.defaultProxyImage(), timeout: Duration = .seconds(120),
        command: [String]? = nil, proxyUsers: [String] = ["swapdev", "root"], outboundProxy: Bool = true
    ) {
        self.target = target
        self.namespace = namespace
        self.exposes = exposes
        self.toPod = toPod
        self.envFile = envFile
        self.envJSON = envJSON
        self.mountDirectory = mountDirectory
        self.proxyImage = proxyImage
        self.timeout = timeout
        self.command = command
        self.proxyUsers = proxyUsers
        self.outboundProxy = outboundProxy
    }
}
