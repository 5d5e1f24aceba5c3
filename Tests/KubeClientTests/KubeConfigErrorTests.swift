import Foundation
import Testing

@testable import KubeClient

/// Bad kubeconfigs end in one line that names the file or entry and the fix (scripts/bad-input.sh
/// runs the same corpus against the CLI).
@Suite("kubeconfig errors: one line, with the names that exist")
struct KubeConfigErrorTests {
    func loader() -> KubeConfigLoader {
        KubeConfigLoader(environment: [:], homeDirectory: "/nonexistent-home", serviceAccountDirectory: "/nonexistent-sa")
    }

    static let twoContexts = """
        clusters: [{name: prod-cluster, cluster: {server: "https://k"}}, {name: dev-cluster, cluster: {server: "https://k"}}]
        users: [{name: admin, user: {token: t}}]
        contexts:
        - {name: prod, context: {cluster: prod-cluster, user: admin}}
        - {name: dev, context: {cluster: dev-cluster, user: admin}}
        - {name: staging, context: {cluster: staging-cluster, user: admin}}
        - {name: ghost-user, context: {cluster: dev-cluster, user: ghost}}
        """

    @Test("an unknown context lists the defined ones, sorted, and says --context")
    func unknownContext() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("config", Self.twoContexts)
        let error = #expect(throws: KubeConfigError.self) { try loader().load(explicitPath: path, context: "prdo") }
        #expect(error == .unknownEntry(kind: "context", name: "prdo", files: [path], available: ["dev", "ghost-user", "prod", "staging"]))
        let text = error?.description ?? ""
        #expect(text.contains("context \"prdo\" is not defined in \(path)"))
        #expect(text.contains("(available: dev, ghost-user, prod, staging)"))
        #expect(text.contains("--context"))
    }

    @Test("a context naming a missing cluster or user lists the defined clusters or users")
    func missingClusterAndUser() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("config", Self.twoContexts)
        #expect(throws: KubeConfigError.unknownEntry(kind: "cluster", name: "staging-cluster", files: [path], available: ["dev-cluster", "prod-cluster"])) {
            try loader().load(explicitPath: path, context: "staging")
        }
        let error = #expect(throws: KubeConfigError.self) { try loader().load(explicitPath: path, context: "ghost-user") }
        #expect(error == .unknownEntry(kind: "user", name: "ghost", files: [path], available: ["admin"]))
        #expect(error?.description.contains("fix the context's user field") == true)
    }

    @Test("an empty kubeconfig says it defines no contexts; one without current-context lists them")
    func emptyAndNoCurrentContext() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let empty = try dir.write("empty", "")
        #expect(throws: KubeConfigError.noContexts(files: [empty])) { try loader().load(explicitPath: empty) }
        let noCurrent = try dir.write("config", Self.twoContexts)
        let error = #expect(throws: KubeConfigError.self) { try loader().load(explicitPath: noCurrent) }
        #expect(error == .noCurrentContext(files: [noCurrent], available: ["dev", "ghost-user", "prod", "staging"]))
        #expect(error?.description.contains("pass --context NAME") == true)
        // With --context, an empty file is an unknown context with nothing available.
        #expect(throws: KubeConfigError.unknownEntry(kind: "context", name: "prod", files: [empty], available: [])) {
            try loader().load(explicitPath: empty, context: "prod")
        }
    }

    @Test("a directory given as kubeconfig is named as one")
    func directory() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        #expect(throws: KubeConfigError.unreadableFile(path: dir.path, reason: "it is a directory, not a file")) {
            try loader().load(explicitPath: dir.path)
        }
    }

    @Test("long name lists are cut at ten")
    func longLists() {
        let names = (1...12).map { "ctx-\(String(format: "%02d", $0))" }
        #expect(KubeConfigError.list(names.reversed()) == "ctx-01, ctx-02, ctx-03, ctx-04, ctx-05, ctx-06, ctx-07, ctx-08, ctx-09, ctx-10, … 2 more")
        #expect(KubeConfigError.list([]) == "none")
    }

    @Test("every description is one line")
    func oneLine() {
        let errors: [KubeConfigError] = [
            .noConfiguration(searched: ["/a", "/b"]), .unreadableFile(path: "/a", reason: "no such file"),
            .invalidYAML(path: "/a", reason: "bad"), .noContexts(files: ["/a"]), .noCurrentContext(files: ["/a"], available: ["x"]),
            .unknownEntry(kind: "context", name: "x", files: ["/a"], available: []),
            .invalidServer(cluster: "c", server: "s", file: "/a"), .referencedFileUnreadable(field: "f", path: "/p", file: "/a"),
            .invalidBase64(field: "f", entry: "e", file: "/a"), .invalidPEM(field: "f", entry: "e", reason: "r"),
            .execPluginFailed(command: "c", reason: "r", hint: nil), .inCluster(reason: "r"), .unsupported(field: "f", entry: "e", file: "/a"),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"), "\(error)")
        }
    }
}
