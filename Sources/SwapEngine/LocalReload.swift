import Foundation
import LocalProcess
import SyncCore

/// `swapdev swap --watch [PATH]...`: local hot reload. On a change below one of ``paths``
/// the local command (its whole process group) restarts while the tunnels, the proxy pod
/// and the scaled-down original stay as they are.
public struct LocalReload: Sendable {
    /// Directories (watched recursively) or single files.
    public var paths: [URL]
    /// Extra ignore patterns (gitignore syntax) on top of `.gitignore`, `.dockerignore`,
    /// `.swapdevignore` and `.git/info/exclude` found in a watched tree.
    public var ignore: [String]
    public var mode: FileWatcher.Mode
    /// How long changes must pause before the restart: an editor's save is often several writes.
    public var quiet: Duration

    public init(paths: [URL], ignore: [String] = [], mode: FileWatcher.Mode = .automatic, quiet: Duration = .milliseconds(100)) {
        self.paths = paths
        self.ignore = ignore
        self.mode = mode
        self.quiet = quiet
    }
}

/// Why `--watch` could not start; said before anything in the cluster changes.
public enum LocalReloadError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingPath(String)
    case watchFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingPath(let path):
            return "--watch \(path): no such file or directory; pass an existing path, or --watch alone for the current directory"
        case .watchFailed(let path, let reason):
            return "cannot watch \(path) (\(reason)); raise fs.inotify.max_user_watches or pass a smaller tree to --watch"
        }
    }
}

/// One watched tree: a directory, or the parent directory of a single watched file.
struct WatchedTree {
    let root: URL
    /// Set when the user named a file: only changes to it count.
    let onlyName: String?

    init(path: URL) throws(LocalReloadError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw .missingPath(path.path)
        }
        if isDirectory.boolValue {
            root = path.standardizedFileURL
            onlyName = nil
        } else {
            root = path.standardizedFileURL.deletingLastPathComponent()
            onlyName = path.lastPathComponent
        }
    }

    /// Whether a batch of this tree's watcher concerns what the user asked to watch.
    func isRelevant(_ batch: ChangeBatch) -> Bool {
        guard let onlyName else { return true }
        return batch.needsRescan || batch.paths.contains(onlyName)
    }
}

/// Runs the watchers of a ``LocalReload`` and restarts the supervised command on each change.
final class LocalReloader: Sendable {
    private let watchers: [(tree: WatchedTree, watcher: FileWatcher)]
    private let supervisor: ProcessSupervisor
    private let reporter: PhaseReporter

    /// Starts watching at once, so a change made while the swap is being activated still counts.
    init(_ reload: LocalReload, supervisor: ProcessSupervisor, reporter: PhaseReporter) throws(LocalReloadError) {
        var watchers: [(WatchedTree, FileWatcher)] = []
        for path in reload.paths {
            let tree = try WatchedTree(path: path)
            do {
                let watcher = try FileWatcher(root: tree.root, ignores: IgnoreMatcher(root: tree.root, extraPatterns: reload.ignore),
                                              mode: reload.mode, quiet: reload.quiet)
                watchers.append((tree, watcher))
            } catch {
                watchers.forEach { $0.1.stop() }
                throw .watchFailed(path: path.path, reason: "\(error)")
            }
        }
        self.watchers = watchers
        self.supervisor = supervisor
        self.reporter = reporter
    }

    /// Restarts the command after each relevant batch until cancelled or ``stop()``.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (tree, watcher) in watchers {
                group.addTask { [supervisor, reporter] in
                    for await batch in watcher.batches where tree.isRelevant(batch) {
                        if Task.isCancelled { break }
                        await Self.restart(supervisor, after: batch, in: tree, reporter: reporter)
                    }
                }
            }
        }
    }

    /// Ends every watcher (their streams finish, so ``run()`` returns).
    func stop() {
        watchers.forEach { $0.watcher.stop() }
    }

    private static func restart(_ supervisor: ProcessSupervisor, after batch: ChangeBatch, in tree: WatchedTree,
                                reporter: PhaseReporter) async {
        let changed = batch.needsRescan ? "\(tree.root.path) (rescan)" : Self.describe(batch.paths, in: tree.root)
        do {
            try await supervisor.restart()
            let milliseconds = Int(Date().timeIntervalSince(batch.firstChangeAt) * 1000)
            reporter.line("↻ \(changed) changed → local command restarted (\(milliseconds) ms after the save)")
        } catch {
            reporter.warning("\(changed) changed, but the local command did not restart: \(error)")
        }
    }

    /// `a.go` or `a.go and 3 more`; paths that still exist come first, so an editor's temporary
    /// file (written, then renamed over the real one) is not what the line names.
    static func describe(_ paths: Set<String>, in root: URL? = nil) -> String {
        let exists = { (path: String) in root.map { FileManager.default.fileExists(atPath: $0.appendingPathComponent(path).path) } ?? true }
        let sorted = paths.filter(exists).sorted() + paths.filter { !exists($0) }.sorted()
        guard let first = sorted.first else { return "a file" }
        return sorted.count == 1 ? first : "\(first) and \(sorted.count - 1) more"
    }
}
