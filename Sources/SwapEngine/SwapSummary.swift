import SwapPlan

/// The few lines shown once the swap is up: what is swapped, the ports, env and volumes.
struct SwapSummary {
    var deployment: String
    var namespace: String
    var container: String
    var pod: String
    var inbound: [InboundForward]
    var outbound: [OutboundForward]
    var proxyPort: Int?
    var root: String
    var copiedVolumes: [String]
    var envFiles: [String]
    var variableCount: Int

    var lines: [String] {
        var result = ["swapped \(namespace)/\(deployment) container \(container) → local process (proxy pod \(pod))"]
        for forward in inbound { result.append("  in:  \(forward)") }
        for forward in outbound { result.append("  out: \(forward)") }
        if let proxyPort { result.append("  out: SOCKS5/HTTP proxy on 127.0.0.1:\(proxyPort) (ALL_PROXY, HTTP_PROXY, HTTPS_PROXY)") }
        result.append("  env: \(variableCount) variables\(envFiles.isEmpty ? "" : " → \(envFiles.joined(separator: ", "))")")
        result.append("  volumes: SWAPDEV_ROOT=\(root)\(copiedVolumes.isEmpty ? "" : " (\(copiedVolumes.joined(separator: ", ")))")")
        return result
    }
}
