import Foundation
import SyncCore

/// One sync rule at run time: the local tree, its ignore rules and watcher, and the remote directory.
final class Mirror: Sendable {
    let rule: SyncRule
    let localRoot: URL
    let ignores: IgnoreMatcher
    let scanner: TreeScanner
    let remote: RemoteTree

    init(rule: SyncRule, localRoot: URL, ignorePatterns: [String], remote: RemoteTree) {
        self.rule = rule
        self.localRoot = localRoot
        self.ignores = IgnoreMatcher(root: localRoot, extraPatterns: ignorePatterns)
        self.scanner = TreeScanner(root: localRoot, ignores: ignores)
        self.remote = remote
    }

    /// Sends every local file the container lacks or holds in another version.
    func initialSync() async throws -> SyncPlan {
        let local = scanner.scan()
        let remoteManifest = try await remote.manifest()
        let plan = SyncPlan.initial(local: local.manifest, remote: remoteManifest)
        try await remote.upload(plan.uploads, from: localRoot)
        return plan
    }

    /// Turns a batch of touched paths into uploads and deletions by looking at the disk now.
    func plan(for batch: ChangeBatch) async throws -> SyncPlan {
        if batch.paths.contains(where: { IgnoreMatcher.ruleFileNames.contains(($0 as NSString).lastPathComponent) }) {
            ignores.invalidate()
        }
        if batch.needsRescan {
            // Events were lost: compare whole trees (like the initial sync).
            return SyncPlan.initial(local: scanner.scan().manifest, remote: try await remote.manifest())
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
    func apply(_ plan: SyncPlan) async throws {
        try await remote.delete(plan.deletions)
        try await remote.upload(plan.uploads, from: localRoot)
    }
}
