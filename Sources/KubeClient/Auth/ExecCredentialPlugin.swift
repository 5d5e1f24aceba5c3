import Foundation
import KubeModel

/// What an exec credential plugin returned.
public struct ExecCredential: Sendable, Hashable {
    public var token: String?
    public var clientCertificatePEM: Data?
    public var clientKeyPEM: Data?
    /// When to fetch again; `nil` means "until a 401".
    public var expiration: Date?
}

/// Runs an exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`) and caches its
/// answer until `expirationTimestamp` passes or a request comes back 401, as client-go does.
public actor ExecCredentialPlugin {
    public let config: ExecPluginConfig
    private let environment: [String: String]
    private var cached: ExecCredential?
    private var inFlight: Task<ExecCredential, any Error>?
    /// How many times the plugin process was started (for tests and logs).
    public private(set) var invocations = 0

    public init(config: ExecPluginConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        self.environment = environment
    }

    /// The cached credential, or a fresh one when none is cached or it has expired.
    public func credential() async throws -> ExecCredential {
        if let cached, cached.expiration.map({ $0 > Date() }) ?? true { return cached }
        if let inFlight { return try await inFlight.value }
        // Concurrent requests share one plugin run instead of each starting the process.
        let task = Task { [config, environment] in try await Self.run(config: config, environment: environment) }
        inFlight = task
        invocations += 1
        defer { inFlight = nil }
        let credential = try await task.value
        cached = credential
        return credential
    }

    /// Drops the cached credential (after a 401) so the next request runs the plugin again.
    public func invalidate() {
        cached = nil
    }

    static func run(config: ExecPluginConfig, environment: [String: String]) async throws -> ExecCredential {
        let name = (config.command as NSString).lastPathComponent
        guard let executable = resolveExecutable(config.command, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw KubeConfigError.execPluginFailed(command: config.command, reason: "executable not found", hint: config.installHint.map(oneLine) ?? "install it or fix users[].user.exec.command")
        }
        let interactive: Bool
        switch config.interactiveMode {
        case .never: interactive = false
        case .ifAvailable: interactive = isatty(0) == 1
        case .always:
            guard isatty(0) == 1 else {
                throw KubeConfigError.execPluginFailed(command: name, reason: "interactiveMode is Always but stdin is not a terminal", hint: "run swapdev from a terminal")
            }
            interactive = true
        }
        var spec: JSONValue = ["interactive": .bool(interactive)]
        if config.provideClusterInfo, let info = config.clusterInfo { spec["cluster"] = info }
        let execInfo: JSONValue = ["apiVersion": .string(config.apiVersion), "kind": "ExecCredential", "spec": spec]

        var env = environment
        for variable in config.env { env[variable.name] = variable.value }
        // client-go always sets this; aws-cli uses it to pick the output apiVersion.
        env["KUBERNETES_EXEC_INFO"] = execInfo.serializedString()

        let result = try await ProcessRunner.run(executable: executable, arguments: config.args, environment: env, passStdin: interactive, timeout: 120)
        guard result.exitCode == 0 else {
            let detail = oneLine(result.stderr.isEmpty ? result.stdout : result.stderr)
            throw KubeConfigError.execPluginFailed(command: name, reason: "exit code \(result.exitCode)\(detail.isEmpty ? "" : ": \(detail)")", hint: config.installHint.map(oneLine))
        }
        return try parse(output: result.stdout, config: config, name: name)
    }

    static func parse(output: String, config: ExecPluginConfig, name: String) throws -> ExecCredential {
        guard let json = try? JSONValue(parsing: output), json.object != nil else {
            throw KubeConfigError.execPluginFailed(command: name, reason: "printed something that is not an ExecCredential JSON object: \(oneLine(String(output.prefix(80))))", hint: "run the plugin by hand to see its output")
        }
        guard json["kind"]?.string == "ExecCredential" else {
            throw KubeConfigError.execPluginFailed(command: name, reason: "output kind is \"\(json["kind"]?.string ?? "")\", not ExecCredential", hint: nil)
        }
        guard json["apiVersion"]?.string == config.apiVersion else {
            throw KubeConfigError.execPluginFailed(command: name, reason: "output apiVersion \"\(json["apiVersion"]?.string ?? "")\" does not match the kubeconfig's \(config.apiVersion)", hint: "align users[].user.exec.apiVersion with the plugin")
        }
        let status = json["status"] ?? .emptyObject
        var credential = ExecCredential()
        credential.token = status["token"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        credential.clientCertificatePEM = status["clientCertificateData"]?.string.map { Data($0.utf8) }
        credential.clientKeyPEM = status["clientKeyData"]?.string.map { Data($0.utf8) }
        if (credential.clientCertificatePEM == nil) != (credential.clientKeyPEM == nil) {
            throw KubeConfigError.execPluginFailed(command: name, reason: "returned only one of clientCertificateData and clientKeyData", hint: nil)
        }
        if credential.token == nil, credential.clientCertificatePEM == nil {
            throw KubeConfigError.execPluginFailed(command: name, reason: "returned neither status.token nor a client certificate", hint: nil)
        }
        if let text = status["expirationTimestamp"]?.string {
            guard let date = RFC3339.date(from: text) else {
                throw KubeConfigError.execPluginFailed(command: name, reason: "expirationTimestamp \"\(text)\" is not RFC 3339", hint: nil)
            }
            credential.expiration = date
        }
        return credential
    }

    static func resolveExecutable(_ command: String, path: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// The first non-empty line of `text`, trimmed, so errors stay one line.
func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? ""
}

