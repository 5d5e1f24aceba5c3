import Foundation
import KubeModel
import Testing

@testable import KubeClient

@Suite("kubeconfig loading and merging")
struct KubeConfigLoaderTests {
    let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    func loader(_ env: [String: String], home: String = "/nonexistent-home") -> KubeConfigLoader {
        KubeConfigLoader(environment: env, homeDirectory: home, serviceAccountDirectory: "/nonexistent-sa")
    }

    @Test("explicit file: context, namespace and server are taken from it")
    func explicitFile() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("config", """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: c1
              cluster:
                server: https://10.0.0.1:6443/prefix/
                insecure-skip-tls-verify: true
                tls-server-name: kubernetes.default
            contexts:
            - name: dev
              context: {cluster: c1, user: u1, namespace: team-a}
            - name: other
              context: {cluster: c1, user: u1}
            users:
            - name: u1
              user: {token: abc}
            """)
        let config = try loader([:]).load(explicitPath: path)
        #expect(config.contextName == "dev")
        #expect(config.namespace == "team-a")
        #expect(config.server == ServerEndpoint(useTLS: true, host: "10.0.0.1", port: 6443, basePath: "/prefix"))
        #expect(config.tls.insecureSkipTLSVerify)
        #expect(config.tls.serverName == "kubernetes.default")
        #expect(config.auth == .token("abc"))
        let other = try loader([:]).load(explicitPath: path, context: "other")
        #expect(other.namespace == "default")
        let overridden = try loader([:]).load(explicitPath: path, namespace: "mine")
        #expect(overridden.namespace == "mine")
    }

    @Test("KUBECONFIG: the first file to set a key wins and entries are never merged field by field")
    func multiFilePrecedence() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let first = try dir.write("a/config", """
            clusters:
            - name: shared
              cluster: {server: "https://first:443"}
            users:
            - name: red-user
              user: {token: first-token}
            """)
        let second = try dir.write("b/config", """
            current-context: ctx
            clusters:
            - name: shared
              cluster: {server: "https://second:443", insecure-skip-tls-verify: true}
            contexts:
            - name: ctx
              context: {cluster: shared, user: red-user, namespace: ns2}
            users:
            - name: red-user
              user: {username: admin, password: secret}
            """)
        let third = try dir.write("c/config", "current-context: ignored\n")
        let config = try loader(["KUBECONFIG": "\(first)::/does/not/exist:\(second):\(third)"]).load()
        #expect(config.contextName == "ctx", "current-context comes from the first file that sets it")
        #expect(config.server.host == "first")
        #expect(!config.tls.insecureSkipTLSVerify, "the second file's cluster fields must not leak into the first's entry")
        #expect(config.auth == .token("first-token"))
        #expect(config.namespace == "ns2")
    }

    @Test("relative certificate, key, tokenFile and exec command paths resolve against the file holding them")
    func relativePaths() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("clusters/ca.crt", caPEM)
        try dir.write("users/certs/client.crt", "CERT")
        try dir.write("users/certs/client.key", "KEY")
        try dir.write("users/token", "tok\n")
        let clusters = try dir.write("clusters/config", """
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://k:6443", certificate-authority: ca.crt}
            contexts:
            - name: c
              context: {cluster: k, user: cert-user}
            - name: t
              context: {cluster: k, user: file-user}
            - name: e
              context: {cluster: k, user: exec-user}
            """)
        let users = try dir.write("users/config", """
            users:
            - name: cert-user
              user: {client-certificate: certs/client.crt, client-key: certs/client.key}
            - name: file-user
              user: {tokenFile: token}
            - name: exec-user
              user:
                exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./bin/plugin}
            """)
        let env = ["KUBECONFIG": "\(clusters):\(users)"]
        let config = try loader(env).load()
        #expect(config.tls.certificateAuthorityPEM == Data(caPEM.utf8))
        #expect(config.tls.clientCertificatePEM == Data("CERT".utf8))
        #expect(config.tls.clientKeyPEM == Data("KEY".utf8))
        #expect(config.auth == .none)
        let tokenConfig = try loader(env).load(context: "t")
        #expect(tokenConfig.auth == .tokenFile(path: dir.path + "/users/token"))
        let execConfig = try loader(env).load(context: "e")
        guard case .exec(let exec) = execConfig.auth else {
            Issue.record("expected exec auth, got \(execConfig.auth)")
            return
        }
        #expect(exec.command == dir.path + "/users/bin/plugin")
    }

    @Test("-data fields win over paths and are base64-decoded")
    func dataFields() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let encoded = Data(caPEM.utf8).base64EncodedString()
        let path = try dir.write("config", """
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://k", certificate-authority-data: \(encoded), certificate-authority: /missing/ca.crt}
            contexts:
            - {name: c, context: {cluster: k, user: u}}
            users:
            - name: u
              user: {client-certificate-data: \(Data("C".utf8).base64EncodedString()), client-key-data: \(Data("K".utf8).base64EncodedString()), token: t, tokenFile: /x}
            """)
        let config = try loader([:]).load(explicitPath: path)
        #expect(config.tls.certificateAuthorityPEM == Data(caPEM.utf8))
        #expect(config.tls.clientCertificatePEM == Data("C".utf8))
        #expect(config.server.port == 443)
        #expect(config.auth == .token("t"), "token wins over tokenFile")
    }

    @Test("EKS and GKE exec stanzas are read with args, env and cluster info")
    func realWorldExecShapes() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("config", """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
                server: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
              name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
            - cluster:
                server: https://34.1.2.3
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension: {audience: gke}
              name: gke_proj_europe-west1_c1
            contexts:
            - context: {cluster: "arn:aws:eks:eu-west-1:123456789012:cluster/prod", user: "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}
              name: eks
            - context: {cluster: gke_proj_europe-west1_c1, user: gke_proj_europe-west1_c1}
              name: gke
            current-context: eks
            kind: Config
            preferences: {}
            users:
            - name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  args: [--region, eu-west-1, eks, get-token, --cluster-name, prod, --output, json]
                  command: aws
                  env:
                  - {name: AWS_PROFILE, value: work}
            - name: gke_proj_europe-west1_c1
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: gke-gcloud-auth-plugin
                  installHint: Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin
                  provideClusterInfo: true
                  interactiveMode: IfAvailable
            """)
        let eks = try loader([:]).load(explicitPath: path)
        guard case .exec(let awsExec) = eks.auth else {
            Issue.record("EKS user should use exec, got \(eks.auth)")
            return
        }
        #expect(awsExec.command == "aws")
        #expect(awsExec.args == ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod", "--output", "json"])
        #expect(awsExec.env == [.init(name: "AWS_PROFILE", value: "work")])
        #expect(awsExec.interactiveMode == .ifAvailable, "v1beta1 defaults to IfAvailable")
        #expect(awsExec.clusterInfo == nil)
        let gke = try loader([:]).load(explicitPath: path, context: "gke")
        guard case .exec(let gkeExec) = gke.auth else {
            Issue.record("GKE user should use exec, got \(gke.auth)")
            return
        }
        #expect(gkeExec.provideClusterInfo)
        #expect(gkeExec.clusterInfo?["server"]?.string == "https://34.1.2.3:443")
        #expect(gkeExec.clusterInfo?["config"]?["audience"]?.string == "gke")
        #expect(gkeExec.installHint?.hasPrefix("Install gke-gcloud-auth-plugin") == true)
    }

    @Test("impersonation fields become Impersonate-* headers")
    func impersonation() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("config", """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users:
            - name: u
              user:
                token: t
                as: jane
                as-uid: "1234"
                as-groups: [devs, ops]
                as-user-extra: {scopes: [view, edit]}
            """)
        let config = try loader([:]).load(explicitPath: path)
        let headers = config.impersonation.headers
        #expect(headers.map(\.0) == ["Impersonate-User", "Impersonate-Uid", "Impersonate-Group", "Impersonate-Group", "Impersonate-Extra-scopes", "Impersonate-Extra-scopes"])
        #expect(headers.map(\.1) == ["jane", "1234", "devs", "ops", "view", "edit"])
    }

    @Test("errors name the file and the fix")
    func errors() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let bad = try dir.write("bad", "clusters: [\n  - name: x\n    oops: : :\n")
        #expect(throws: KubeConfigError.self) { try loader([:]).load(explicitPath: bad) }
        do {
            _ = try loader([:]).load(explicitPath: bad)
        } catch {
            #expect("\(error)".contains(bad))
            #expect(!"\(error)".contains("\n"))
        }
        let missing = dir.path + "/nope"
        #expect(throws: KubeConfigError.unreadableFile(path: missing, reason: "no such file")) { try loader([:]).load(explicitPath: missing) }

        let good = try dir.write("good", """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k", certificate-authority: ca-missing.crt}}]
            contexts: [{name: c, context: {cluster: k, user: u}}, {name: nouser, context: {cluster: k, user: ghost}}]
            users: [{name: u, user: {token: t}}]
            """)
        #expect(throws: KubeConfigError.unknownEntry(kind: "context", name: "prod", files: [good], available: ["c", "nouser"])) {
            try loader([:]).load(explicitPath: good, context: "prod")
        }
        #expect(throws: KubeConfigError.referencedFileUnreadable(field: "certificate-authority", path: dir.path + "/ca-missing.crt", file: good)) {
            try loader([:]).load(explicitPath: good)
        }
        let noContext = try dir.write("empty", "clusters: []\n")
        #expect(throws: KubeConfigError.noContexts(files: [noContext])) { try loader([:]).load(explicitPath: noContext) }
        #expect(throws: KubeConfigError.self) { try loader(["HOME": "/nonexistent"]).load() }
        let description = KubeConfigError.referencedFileUnreadable(field: "client-certificate", path: "/a/b.crt", file: "/k/config").description
        #expect(description.contains("/a/b.crt") && description.contains("/k/config"))
    }

    @Test("~/.kube/config is the fallback, and an in-cluster pod uses its service account")
    func homeAndInCluster() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write(".kube/config", """
            current-context: c
            clusters: [{name: k, cluster: {server: "http://127.0.0.1:8080"}}]
            contexts: [{name: c, context: {cluster: k}}]
            """)
        let home = try loader([:], home: dir.path).load()
        #expect(home.server == ServerEndpoint(useTLS: false, host: "127.0.0.1", port: 8080))
        #expect(home.auth == .none)

        try dir.write("sa/token", "sa-token")
        try dir.write("sa/ca.crt", caPEM)
        try dir.write("sa/namespace", "swap-ns\n")
        let inCluster = try KubeConfigLoader(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
            homeDirectory: "/nonexistent", serviceAccountDirectory: dir.path + "/sa"
        ).load()
        #expect(inCluster.server.description == "https://[fd00::1]:443")
        #expect(inCluster.namespace == "swap-ns")
        #expect(inCluster.auth == .tokenFile(path: dir.path + "/sa/token"))
        #expect(inCluster.tls.certificateAuthorityPEM == Data(caPEM.utf8))
    }

    @Test("HTTPS_PROXY applies unless NO_PROXY matches; proxy-url wins")
    func proxies() throws {
        let server = ServerEndpoint(useTLS: true, host: "api.example.com", port: 6443)
        let env = ["HTTPS_PROXY": "http://user:pw@proxy:3128", "NO_PROXY": "internal.corp,.svc"]
        let proxy = try ProxySelection.proxy(for: server, proxyURL: nil, environment: env, file: "f")
        #expect(proxy?.host == "proxy")
        #expect(proxy?.port == 3128)
        #expect(proxy?.authorization == "Basic " + Data("user:pw".utf8).base64EncodedString())
        #expect(try ProxySelection.proxy(for: ServerEndpoint(useTLS: true, host: "k.internal.corp", port: 443), proxyURL: nil, environment: env, file: "f") == nil)
        #expect(try ProxySelection.proxy(for: ServerEndpoint(useTLS: true, host: "a.svc", port: 443), proxyURL: nil, environment: env, file: "f") == nil)
        #expect(try ProxySelection.proxy(for: server, proxyURL: "http://other:8080", environment: env, file: "f")?.host == "other")
        #expect(throws: KubeConfigError.self) { try ProxySelection.proxy(for: server, proxyURL: "socks5://x:1080", environment: [:], file: "f") }
    }
}
