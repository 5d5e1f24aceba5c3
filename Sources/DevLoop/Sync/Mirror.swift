import Foundation
import KubeClient
import SyncCore

/// One sync rule at run time: the local tree, its ignore rules, and the remote directory.
///
/// The local side lives for the whole session; the remote side is a ``RemoteTree`` in
/// whichever dev pod is current (``remote(in:)``), because the pod can be replaced.
final class Mirror: Sendable {
    let rule: SyncRule
    let localRoot: URL
    let ignores: IgnoreMatcher
    let scanner: TreeScanner
    let client: KubeClient
    let namespace: String?
    let container: String

    init(rule: SyncRule, localRoot: URL, ignorePatterns: [String], client: KubeClient, namespace: String?, container: String) {
        self.rule = rule
        self.localRoot = localRoot
        self.ignores = IgnoreMatcher(root: localRoot, extraPatterns: ignorePatterns)
        self.scanner = TreeScanner(root: localRoot, ignores: ignores)
        self.client = client
        self.namespace = namespace
        self.container = container
    }

    /// The rule's remote directory in `pod`.
    func remote(in pod: String) -> RemoteTree {
        RemoteTree(client: client, namespace: namespace, pod: pod, container: container, path: rule.remote)
    }

    /// Sends every local file the container lacks or holds in another version.
    func initialSync(into pod: String) async throws -> SyncPlan {
        let remote = remote(in: pod)
        let local = scanner.scan()
        let remoteManifest = try await remote.manifest()
        let plan = SyncPlan.initial(local: local.manifest, remote: remoteManifest)
        try await remote.upload(plan.uploads, from: localRoot)
        return plan
    }

    /// Turns a batch of touched paths into uploads and deletions by looking at the disk now.
    func plan(for batch: ChangeBatch, in pod: String) async throws -> SyncPlan {
        if batch.paths.contains(where: { IgnoreMatcher.ruleFileNames.contains(($0 as NSString).lastPathComponent) }) {
            ignores.invalidate()
        }
        if batch.needsRescan {
            // Events were lost: compare whole trees (like the initial sync).
            return SyncPlan.initial(local: scanner.scan().manifest, remote: try await remote(in: pod).manifest())
        }
        var uploads: [String: FileEntry] = [:]
        var deletions: [String] = []
        for path in batch.paths where RemoteCommands.isSafeRelative(path) {
            if let entry = scanner.entry(for: path) {
                uploads[path] = entry
            } else if scanner.isDirectory(path) {
                for (child, entry) in scanner.scan(from: path).manifest { uploads[child] = entry }
            } else if !scanner.exists(path)
                        && !ignores.isIgnored(path, isDirectory: false) && !ignores.isIgnored(path, isDirectory: true) {
                deletions.append(path)
            }
        }
        return SyncPlan(uploads: Array(uploads.values), deletions: deletions)
    }

    /// Runs a plan against the container.
    func apply(_ plan: SyncPlan, to pod: String) async throws {
        let remote = remote(in: pod)
        try await remote.delete(plan.deletions)
        try await remote.upload(plan.uploads, from: localRoot)
    }
}
