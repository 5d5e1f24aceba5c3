import Foundation
import KubeModel
import Testing

@testable import KubeClient

@Suite("exec credential plugins and token files")
struct ExecPluginTests {
    /// A plugin script that counts its runs in `count`, records its environment, and prints `output`.
    func makePlugin(in dir: TempDirectory, output: String, exitCode: Int = 0, stderr: String = "") throws -> String {
        try dir.write("plugin.sh", """
            #!/bin/sh
            echo run >> "\(dir.path)/count"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir.path)/exec-info"
            printf '%s' "$PLUGIN_ENV" > "\(dir.path)/plugin-env"
            printf '%s' '\(stderr)' >&2
            cat <<'JSON'
            \(output)
            JSON
            exit \(exitCode)
            """, executable: true)
    }

    func runs(_ dir: TempDirectory) -> Int {
        let text = (try? String(contentsOfFile: dir.path + "/count", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    func credentialJSON(token: String, expires: Date?, apiVersion: String = "client.authentication.k8s.io/v1beta1") -> String {
        let expiry = expires.map { ",\"expirationTimestamp\":\"\(ISO8601DateFormatter().string(from: $0))\"" } ?? ""
        return "{\"apiVersion\":\"\(apiVersion)\",\"kind\":\"ExecCredential\",\"spec\":{},\"status\":{\"token\":\"\(token)\"\(expiry)}}"
    }

    func config(_ command: String, apiVersion: String = "client.authentication.k8s.io/v1beta1") -> ExecPluginConfig {
        ExecPluginConfig(apiVersion: apiVersion, command: command, args: [], env: [.init(name: "PLUGIN_ENV", value: "from-kubeconfig")], interactiveMode: .never)
    }

    @Test("credentials are cached until they expire, and KUBERNETES_EXEC_INFO and env are passed")
    func cachingAndEnvironment() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let command = try makePlugin(in: dir, output: credentialJSON(token: "tok-1", expires: Date().addingTimeInterval(3600)))
        let plugin = ExecCredentialPlugin(config: config(command), environment: ["PATH": "/usr/bin:/bin"])
        let first = try await plugin.credential()
        let second = try await plugin.credential()
        #expect(first.token == "tok-1")
        #expect(second.token == "tok-1")
        #expect(runs(dir) == 1, "a valid cached credential must not re-run the plugin")
        let info = try JSONValue(parsing: try String(contentsOfFile: dir.path + "/exec-info", encoding: .utf8))
        #expect(info["apiVersion"]?.string == "client.authentication.k8s.io/v1beta1")
        #expect(info["kind"]?.string == "ExecCredential")
        #expect(info[path: ["spec", "interactive"]]?.bool == false)
        #expect(try String(contentsOfFile: dir.path + "/plugin-env", encoding: .utf8) == "from-kubeconfig")

        await plugin.invalidate()
        _ = try await plugin.credential()
        #expect(runs(dir) == 2, "after a 401 (invalidate) the plugin runs again once")
    }

    @Test("an expired credential is fetched again")
    func expiry() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let command = try makePlugin(in: dir, output: credentialJSON(token: "short", expires: Date().addingTimeInterval(-5)))
        let plugin = ExecCredentialPlugin(config: config(command), environment: [:])
        _ = try await plugin.credential()
        _ = try await plugin.credential()
        #expect(runs(dir) == 2)
    }

    @Test("a failing plugin, garbage output and a wrong apiVersion give one-line errors naming the plugin")
    func failures() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let failing = try makePlugin(in: dir, output: "", exitCode: 3, stderr: "Unable to locate credentials. You can configure credentials by running aws configure.")
        await #expect(throws: KubeConfigError.self) { try await ExecCredentialPlugin(config: config(failing), environment: [:]).credential() }
        do {
            _ = try await ExecCredentialPlugin(config: config(failing), environment: [:]).credential()
        } catch {
            let text = "\(error)"
            #expect(text.contains("plugin.sh") && text.contains("exit code 3") && text.contains("Unable to locate credentials"))
            #expect(!text.contains("\n"))
        }
        let garbageDir = try TempDirectory()
        defer { garbageDir.remove() }
        let garbage = try makePlugin(in: garbageDir, output: "<html>login page</html>")
        do {
            _ = try await ExecCredentialPlugin(config: config(garbage), environment: [:]).credential()
            Issue.record("garbage output must fail")
        } catch {
            #expect("\(error)".contains("not an ExecCredential"))
        }
        let versionDir = try TempDirectory()
        defer { versionDir.remove() }
        let wrongVersion = try makePlugin(in: versionDir, output: credentialJSON(token: "x", expires: nil, apiVersion: "client.authentication.k8s.io/v1"))
        do {
            _ = try await ExecCredentialPlugin(config: config(wrongVersion), environment: [:]).credential()
            Issue.record("apiVersion mismatch must fail")
        } catch {
            #expect("\(error)".contains("does not match"))
        }
        let missing = ExecPluginConfig(apiVersion: "client.authentication.k8s.io/v1", command: "no-such-plugin-xyz", interactiveMode: .never, installHint: "brew install it")
        do {
            _ = try await ExecCredentialPlugin(config: missing, environment: ["PATH": "/usr/bin"]).credential()
            Issue.record("missing plugin must fail")
        } catch {
            #expect("\(error)".contains("not found") && "\(error)".contains("brew install it"))
        }
    }

    @Test("a tokenFile is re-read when it changes")
    func tokenFileReread() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("token", "first-token\n")
        let config = ClusterConnectionConfig(server: ServerEndpoint(useTLS: true, host: "k", port: 443), auth: .tokenFile(path: path))
        let authenticator = RequestAuthenticator(config: config, environment: [:])
        #expect(try await authenticator.headers().first { $0.0 == "Authorization" }?.1 == "Bearer first-token")
        try dir.write("token", "rotated-token-2")
        #expect(try await authenticator.headers().first { $0.0 == "Authorization" }?.1 == "Bearer rotated-token-2")
    }

    @Test("exec auth in a kubeconfig ends up as a bearer header; basic auth too")
    func headersFromAuthMethods() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let command = try makePlugin(in: dir, output: credentialJSON(token: "exec-token", expires: nil))
        let server = ServerEndpoint(useTLS: true, host: "k", port: 443)
        let execAuth = RequestAuthenticator(config: ClusterConnectionConfig(server: server, auth: .exec(config(command))), environment: [:])
        #expect(try await execAuth.headers().first { $0.0 == "Authorization" }?.1 == "Bearer exec-token")
        let basic = RequestAuthenticator(config: ClusterConnectionConfig(server: server, auth: .basic(username: "a", password: "b")), environment: [:])
        #expect(try await basic.headers().first { $0.0 == "Authorization" }?.1 == "Basic YTpi")
    }
}
