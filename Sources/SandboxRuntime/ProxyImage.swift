import Foundation

/// The one image the sandbox can "run": swapdev's proxy, whose entrypoint is the
/// repository's `proxy-image/entrypoint.sh` started with the host's OpenSSH.
enum ProxyImage {
    /// Whether `image` (any registry, tag or digest) is the swapdev proxy image.
    static func matches(_ image: String) -> Bool {
        var reference = image
        if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
        let lastSlash = reference.lastIndex(of: "/").map { reference.index(after: $0) } ?? reference.startIndex
        if let colon = reference[lastSlash...].firstIndex(of: ":") { reference = String(reference[..<colon]) }
        return reference.hasSuffix("swapdev-proxy")
    }

    /// The entrypoint's argv, as the image's ENTRYPOINT would be.
    static func entrypoint(in directory: URL?, image: String) -> Result<[String], ContainerStartError> {
        guard let directory else {
            return .failure(ContainerStartError(description:
                "image \(image) is the swapdev proxy, but the sandbox runtime was started without a proxy-image directory: pass it when creating ProcessPodRuntime"))
        }
        let script = directory.appendingPathComponent("entrypoint.sh").path
        let fm = FileManager.default
        guard fm.fileExists(atPath: script) else {
            return .failure(ContainerStartError(description: "proxy image entrypoint \(script) does not exist: check the proxy-image directory"))
        }
        // A checkout without the executable bit still works: run it through sh.
        return .success(fm.isExecutableFile(atPath: script) ? [script] : ["/bin/sh", script])
    }
}
