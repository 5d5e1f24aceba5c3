import Foundation
import KubeModel
import Testing

@testable import KubeClient

@Suite("REST against a real HTTPS fixture server", .serialized)
struct RESTTests {
    @Test("TLS with a private CA, bearer token, CRUD, typed Status errors, and keep-alive reuse")
    func crudAndErrors() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        try await withTestDeadline {
            let client = fixture.client
            let version = try await client.serverVersion()
            #expect(version["gitVersion"]?.string == "v1.30.0-fixture")

            let created = try await client.create(.configMaps, object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm1"], "data": ["k": "v"]])
            #expect(created.resourceVersion == "101")
            #expect(created[path: ["metadata", "unknownField"]]?.string == "kept", "unknown fields round-trip")

            do {
                try await client.create(.configMaps, object: ["metadata": ["name": "cm1"]])
                Issue.record("duplicate create must fail")
            } catch let error as KubeError {
                guard case .alreadyExists(let status) = error else { Issue.record("expected alreadyExists, got \(error)"); return }
                #expect(status.code == 409)
            }

            var stale = created
            stale.resourceVersion = "1"
            do {
                try await client.update(.configMaps, object: stale)
                Issue.record("stale update must conflict")
            } catch let error as KubeError {
                guard case .conflict = error else { Issue.record("expected conflict, got \(error)"); return }
                #expect(error.description.contains("re-read the object"))
            }
            var fresh = try await client.get(.configMaps, name: "cm1")
            fresh["data"] = ["k": "v2"]
            let updated = try await client.update(.configMaps, object: fresh)
            #expect(updated[path: ["data", "k"]]?.string == "v2")

            do {
                try await client.create(.configMaps, object: ["metadata": ["name": "x"], "data": ["bad": "1"]])
                Issue.record("invalid create must fail")
            } catch let error as KubeError {
                guard case .invalid(let status) = error else { Issue.record("expected invalid, got \(error)"); return }
                #expect(status.causes.first?.field == "data[bad]")
            }

            let deleted = try await client.delete(.configMaps, name: "cm1", propagation: .foreground, gracePeriodSeconds: 0)
            let options = try JSONValue(parsing: deleted[path: ["details", "options"]]?.string ?? "")
            #expect(options["propagationPolicy"]?.string == "Foreground")
            #expect(options["gracePeriodSeconds"]?.int == 0)
            do {
                _ = try await client.get(.configMaps, name: "cm1")
                Issue.record("get after delete must fail")
            } catch let error as KubeError {
                guard case .notFound = error else { Issue.record("expected notFound, got \(error)"); return }
                #expect(error.status?.message == "configmaps \"cm1\" not found")
            }

            // A server that closes after a response, then more requests: the pool must replace the connection.
            _ = try await client.getJSON(path: "/close-after")
            _ = try await client.serverVersion()
            let connections = fixture.server.state.current.connections
            let requests = fixture.server.state.current.requests.count
            #expect(requests >= 9)
            // Known issue (see docs/kubernetes-client.md): the pool sometimes opens a new connection where
            // it could reuse one; assert reuse happens, not that it always happens.
            #expect(connections < requests, "keep-alive connections must be reused (saw \(connections) for \(requests) requests: \(fixture.server.state.current.log))")
        }
    }

    /// A GET whose fresh connection the server closes before answering is sent once more, as
    /// client-go does; a POST is not (the server may have acted on it), and says what happened.
    @Test("a GET dropped before any response is retried once; a POST is not")
    func droppedGETIsRetriedOnce() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        try await withTestDeadline {
            let answer = try await fixture.client.getJSON(path: "/drop-first")
            #expect(answer["ok"]?.bool == true)
            #expect(fixture.server.state.current.connections == 2, "the dropped connection, then one more")
            // A fresh connection for the POST: pooled ones get the stale-connection retry instead.
            await fixture.client.pool.drain()
            do {
                _ = try await fixture.client.perform(.POST, "/drop-first", body: Data("{}".utf8), contentType: "application/json")
                Issue.record("a dropped POST must not be retried")
            } catch let error as KubeError {
                guard case .transport(_, let reason) = error else { Issue.record("expected a transport error, got \(error)"); return }
                #expect(reason == "the server closed the connection without answering POST /drop-first")
            }
        }
    }

    /// A connection cut during the TLS handshake carried no request yet: any method is sent
    /// again once; a second cut is reported.
    @Test("a request whose connection is cut during the TLS handshake is retried once, whatever its method")
    func requestCutDuringHandshakeIsRetriedOnce() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        try await withTestDeadline {
            fixture.server.state.withLock { $0.connectionsToDrop = 1 }
            let version = try await fixture.client.serverVersion()
            #expect(version["gitVersion"]?.string == "v1.30.0-fixture")
            await fixture.client.pool.drain()
            fixture.server.state.withLock { $0.connectionsToDrop = 1 }
            let created = try await fixture.client.create(.configMaps, object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "after-cut"]])
            #expect(created.name == "after-cut")
            await fixture.client.pool.drain()
            fixture.server.state.withLock { $0.connectionsToDrop = 2 }
            do {
                _ = try await fixture.client.serverVersion()
                Issue.record("two cuts in a row must be reported")
            } catch let error as KubeError {
                guard case .transport(_, let reason) = error else { Issue.record("expected a transport error, got \(error)"); return }
                #expect(reason.contains("connection closed during setup"))
            }
        }
    }

    @Test("a wrong token is reported as 401 with a hint")
    func unauthorized() async throws {
        let fixture = try await Fixture.start(token: "good-token", userYAML: "    token: wrong")
        defer { Task { await fixture.stop() } }
        try await withTestDeadline {
            do {
                _ = try await fixture.client.serverVersion()
                Issue.record("wrong token must fail")
            } catch let error as KubeError {
                guard case .unauthorized = error else { Issue.record("expected unauthorized, got \(error)"); return }
                #expect(error.description.contains("log in again"))
            }
        }
    }

    @Test("an exec plugin's token is used, cached, and fetched again once after a 401")
    func execPluginAgainstServer() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.directory.remove() }
        let server = try await FixtureAPIServer.start(certificates: certificates, token: "good-token")
        defer { Task { await server.stop() } }
        // First run prints a token the server rejects, later runs the right one.
        try certificates.directory.write("plugin.sh", """
            #!/bin/sh
            echo run >> "\(certificates.directory.path)/runs"
            n=$(wc -l < "\(certificates.directory.path)/runs")
            if [ "$n" -eq 1 ]; then t=stale-token; else t=good-token; fi
            echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$t\\"}}"
            """, executable: true)
        let kubeconfig = try certificates.kubeconfig(server: server.url, user: """
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./plugin.sh
                  interactiveMode: Never
            """)
        let config = try KubeConfigLoader(environment: [:], homeDirectory: "/nonexistent").load(explicitPath: kubeconfig)
        let client = KubeClient(config: config, environment: ["PATH": "/usr/bin:/bin"], requestTimeout: .seconds(10))
        defer { Task { await client.shutdown() } }
        try await withTestDeadline {
            _ = try await client.serverVersion()
            _ = try await client.serverVersion()
            _ = try await client.serverVersion()
            let runs = try String(contentsOfFile: certificates.directory.path + "/runs", encoding: .utf8).split(separator: "\n").count
            #expect(runs == 2, "one run for the stale token, one refresh after the 401, then cached")
        }
    }

    @Test("client certificates authenticate over mutual TLS; tls-server-name is used for verification")
    func clientCertificates() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.directory.remove() }
        let server = try await FixtureAPIServer.start(certificates: certificates, token: nil, requireClientCert: true)
        defer { Task { await server.stop() } }
        let kubeconfig = try certificates.directory.write("mtls-config", """
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://127.0.0.1:\(server.port)", certificate-authority: ca.crt, tls-server-name: kubernetes.fixture}
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users:
            - name: u
              user: {client-certificate: client.crt, client-key: client.key}
            """)
        let config = try KubeConfigLoader(environment: [:], homeDirectory: "/nonexistent").load(explicitPath: kubeconfig)
        let client = KubeClient(config: config, requestTimeout: .seconds(10))
        defer { Task { await client.shutdown() } }
        try await withTestDeadline {
            let version = try await client.serverVersion()
            #expect(version["major"]?.string == "1")
        }
        // Without the client certificate the handshake must fail with a TLS error.
        var noCert = config
        noCert.tls.clientCertificatePEM = nil
        noCert.tls.clientKeyPEM = nil
        let anonymous = KubeClient(config: noCert, requestTimeout: .seconds(10))
        defer { Task { await anonymous.shutdown() } }
        await #expect(throws: KubeError.self) { _ = try await anonymous.serverVersion() }
    }

    @Test("transport errors: refused connection and an untrusted certificate name the kubeconfig")
    func transportErrors() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        var refused = fixture.client.config
        refused.server.port = 1
        let refusedClient = KubeClient(config: refused, requestTimeout: .seconds(10))
        do {
            _ = try await refusedClient.serverVersion()
            Issue.record("port 1 must refuse")
        } catch let error as KubeError {
            guard case .connectionRefused = error else { Issue.record("expected connectionRefused, got \(error)"); return }
            #expect(error.description.contains("is the cluster running?"))
            #expect(error.description.contains(refused.source))
        }
        var untrusted = fixture.client.config
        untrusted.tls.certificateAuthorityPEM = nil
        let untrustedClient = KubeClient(config: untrusted, requestTimeout: .seconds(10))
        do {
            _ = try await untrustedClient.serverVersion()
            Issue.record("an unknown CA must fail")
        } catch let error as KubeError {
            guard case .tls = error else { Issue.record("expected tls, got \(error)"); return }
        }
        var insecure = untrusted
        insecure.tls.insecureSkipTLSVerify = true
        let insecureClient = KubeClient(config: insecure, requestTimeout: .seconds(10))
        defer { Task { await insecureClient.shutdown() } }
        #expect(try await insecureClient.serverVersion()["major"]?.string == "1")
    }
}
