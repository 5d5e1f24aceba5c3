import Foundation

/// Decides which paths of a local tree are synced, from every ignore file git and docker know.
///
/// Sources, lowest precedence first (a later match overrides an earlier one, as in git):
/// `.git/info/exclude`, the root `.gitignore`, nested `.gitignore`s from the root downwards,
/// `.dockerignore` (every pattern relative to the root, as docker reads it), `.swapdevignore`,
/// then extra patterns from `swapdev.yaml`. `.git/` is always ignored. A path whose parent
/// directory is ignored is ignored too, whatever negations say — git cannot re-include it either.
///
/// Nested `.gitignore`s are read lazily and cached; call ``invalidate()`` when one changes.
public final class IgnoreMatcher: @unchecked Sendable {
    /// The tree root on disk.
    public let root: URL
    private let extraPatterns: [IgnorePattern]
    private let lock = NSLock()
    // Guarded by `lock`: directory (relative) -> that directory's .gitignore patterns.
    private var nestedCache: [String: [IgnorePattern]] = [:]
    private var rootSources: [IgnorePattern] = []
    private var topSources: [IgnorePattern] = []

    /// Names of the files whose change means the rules must be re-read.
    public static let ruleFileNames: Set<String> = [".gitignore", ".dockerignore", ".swapdevignore", "exclude"]

    /// - Parameters:
    ///   - root: the local tree.
    ///   - extraPatterns: gitignore-style lines (from `swapdev.yaml`), applied last.
    public init(root: URL, extraPatterns: [String] = []) {
        self.root = root.standardizedFileURL
        self.extraPatterns = extraPatterns.flatMap { IgnorePattern.parse($0) }
        loadRootSources()
    }

    /// Forgets cached ignore files so the next query re-reads them.
    public func invalidate() {
        lock.lock()
        nestedCache.removeAll()
        lock.unlock()
        loadRootSources()
    }

    /// Whether `path` (relative to ``root``, `/`-separated) is excluded from sync,
    /// checking every ancestor directory first.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        if components.isEmpty { return false }
        var prefix = ""
        for (index, component) in components.enumerated() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            let last = index == components.count - 1
            if isIgnoredItself(prefix, name: component, isDirectory: last ? isDirectory : true) { return true }
        }
        return false
    }

    /// Whether `path` is excluded by a pattern that matches it directly, assuming its parent
    /// directory is not ignored. The tree walk uses this, having checked the parents already.
    public func isIgnoredItself(_ path: String, name: String, isDirectory: Bool) -> Bool {
        if name == ".git" { return true }
        var verdict: Bool?
        func apply(_ patterns: [IgnorePattern]) {
            for pattern in patterns.reversed() where pattern.matches(path, isDirectory: isDirectory) {
                verdict = !pattern.isNegated
                return
            }
        }
        // Highest precedence first: the first list with a match decides.
        apply(extraPatterns)
        if let verdict { return verdict }
        apply(topSources)
        if let verdict { return verdict }
        var directories: [String] = []
        var dir = ""
        let parents = path.split(separator: "/").dropLast()
        directories.append("")
        for component in parents {
            dir = dir.isEmpty ? String(component) : dir + "/" + component
            directories.append(dir)
        }
        for directory in directories.reversed() {
            apply(gitignore(in: directory))
            if let verdict { return verdict }
        }
        apply(rootSourcesSnapshot())
        return verdict ?? false
    }

    private func rootSourcesSnapshot() -> [IgnorePattern] {
        lock.lock()
        defer { lock.unlock() }
        return rootSources
    }

    private func gitignore(in directory: String) -> [IgnorePattern] {
        lock.lock()
        if let cached = nestedCache[directory] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let file = directory.isEmpty ? ".gitignore" : directory + "/.gitignore"
        let patterns = IgnorePattern.parse(read(file), base: directory)
        lock.lock()
        nestedCache[directory] = patterns
        lock.unlock()
        return patterns
    }

    private func loadRootSources() {
        let exclude = IgnorePattern.parse(read(".git/info/exclude"))
        var top = IgnorePattern.parse(read(".dockerignore"), forceAnchored: true)
        top += IgnorePattern.parse(read(".swapdevignore"))
        lock.lock()
        rootSources = exclude
        topSources = top
        lock.unlock()
    }

    /// An ignore file's text, or `""` when it does not exist (a missing ignore file ignores nothing).
    private func read(_ relative: String) -> String {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(relative).path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
