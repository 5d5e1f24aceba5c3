/// One line of a `.gitignore`-style file, parsed.
///
/// Follows gitignore(5): `#` comments, `\` escapes, trailing spaces dropped unless escaped,
/// `!` negates, a trailing `/` matches directories only, and a pattern with a `/` anywhere but
/// at the end is anchored to the directory of the file that holds it; one without matches the
/// name at any depth below that directory.
public struct IgnorePattern: Sendable, Hashable {
    /// The glob, without the `!`, the leading `/` and the trailing `/`.
    public let glob: String
    /// `!pattern`: re-includes what an earlier pattern excluded.
    public let isNegated: Bool
    /// `pattern/`: matches directories only.
    public let isDirectoryOnly: Bool
    /// Whether the glob is matched against the path relative to ``base`` (it contained a `/`)
    /// rather than against the last path component.
    public let isAnchored: Bool
    /// The directory (relative to the tree root, `""` for the root) whose ignore file held the pattern.
    public let base: String

    /// Parses one line; `nil` for blank lines and comments.
    ///
    /// - Parameter forceAnchored: `.dockerignore` semantics, where every pattern is relative to the root.
    public init?(line rawLine: Substring, base: String = "", forceAnchored: Bool = false) {
        var line = rawLine
        if line.hasSuffix("\r") { line = line.dropLast() }
        if line.isEmpty || line.hasPrefix("#") { return nil }
        line = Self.trimTrailingSpaces(line)
        if line.isEmpty { return nil }
        var negated = false
        if line.hasPrefix("!") {
            negated = true
            line = line.dropFirst()
        } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
            line = line.dropFirst()
        }
        var directoryOnly = false
        if line.hasSuffix("/") && !line.hasSuffix("\\/") {
            directoryOnly = true
            while line.hasSuffix("/") { line = line.dropLast() }
        }
        var anchored = forceAnchored || line.contains("/")
        while line.hasPrefix("/") {
            anchored = true
            line = line.dropFirst()
        }
        if forceAnchored, line.hasPrefix("./") { line = line.dropFirst(2) }
        if line.isEmpty { return nil }
        self.glob = String(line)
        self.isNegated = negated
        self.isDirectoryOnly = directoryOnly
        self.isAnchored = anchored
        self.base = base
    }

    /// Whether the pattern matches `path` (relative to the tree root, `/`-separated).
    ///
    /// Ancestors are not considered here: ``IgnoreMatcher`` checks each directory on the way down.
    public func matches(_ path: String, isDirectory: Bool) -> Bool {
        if isDirectoryOnly && !isDirectory { return false }
        let relative: Substring
        if base.isEmpty {
            relative = Substring(path)
        } else {
            guard path.hasPrefix(base + "/") else { return false }
            relative = path.dropFirst(base.utf8.count + 1)
        }
        if isAnchored {
            return Wildmatch.matches(glob, String(relative))
        }
        let name = relative.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? String(relative)
        return Wildmatch.matches(glob, name)
    }

    /// Drops trailing spaces unless the last one is escaped with a backslash.
    private static func trimTrailingSpaces(_ line: Substring) -> Substring {
        var result = line
        while result.hasSuffix(" ") {
            let withoutSpace = result.dropLast()
            if withoutSpace.hasSuffix("\\") {
                // "\ " keeps the space; drop only the backslash.
                return withoutSpace.dropLast() + " "
            }
            result = withoutSpace
        }
        return result
    }

    /// Parses a whole ignore file.
    public static func parse(_ text: String, base: String = "", forceAnchored: Bool = false) -> [IgnorePattern] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap {
            IgnorePattern(line: $0, base: base, forceAnchored: forceAnchored)
        }
    }
}
