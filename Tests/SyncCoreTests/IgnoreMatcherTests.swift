import Foundation
import Testing
@testable import SyncCore

@Suite struct IgnorePatternTests {
    @Test func parsesCommentsBlanksAndEscapes() {
        #expect(IgnorePattern(line: "# comment") == nil)
        #expect(IgnorePattern(line: "") == nil)
        #expect(IgnorePattern(line: "   ") == nil)
        #expect(IgnorePattern(line: "\\#file")?.glob == "#file")
        #expect(IgnorePattern(line: "\\!important")?.glob == "!important")
        #expect(IgnorePattern(line: "\\!important")?.isNegated == false)
        #expect(IgnorePattern(line: "trailing   ")?.glob == "trailing")
        #expect(IgnorePattern(line: "space\\ ")?.glob == "space ")
        #expect(IgnorePattern(line: "crlf\r")?.glob == "crlf")
    }

    @Test func classifiesAnchoringAndDirectoryOnly() throws {
        let name = try #require(IgnorePattern(line: "build/"))
        #expect(name.isDirectoryOnly && !name.isAnchored && name.glob == "build")
        let anchored = try #require(IgnorePattern(line: "/build"))
        #expect(anchored.isAnchored && !anchored.isDirectoryOnly)
        let middle = try #require(IgnorePattern(line: "doc/frotz"))
        #expect(middle.isAnchored)
        let negated = try #require(IgnorePattern(line: "!keep.log"))
        #expect(negated.isNegated && negated.glob == "keep.log")
    }

    @Test func nameOnlyPatternsMatchAtAnyDepth() throws {
        let pattern = try #require(IgnorePattern(line: "*.log"))
        #expect(pattern.matches("a.log", isDirectory: false))
        #expect(pattern.matches("deep/er/a.log", isDirectory: false))
        #expect(!pattern.matches("a.log.txt", isDirectory: false))
    }

    @Test func anchoredPatternsMatchFromTheirBase() throws {
        let pattern = try #require(IgnorePattern(line: "/out", base: "sub"))
        #expect(pattern.matches("sub/out", isDirectory: false))
        #expect(!pattern.matches("out", isDirectory: false))
        #expect(!pattern.matches("sub/x/out", isDirectory: false))
        let middle = try #require(IgnorePattern(line: "doc/frotz/"))
        #expect(middle.matches("doc/frotz", isDirectory: true))
        #expect(!middle.matches("a/doc/frotz", isDirectory: true))
        #expect(!middle.matches("doc/frotz", isDirectory: false))
    }

    @Test func dockerignorePatternsAreRootRelative() throws {
        let pattern = try #require(IgnorePattern(line: "node_modules", forceAnchored: true))
        #expect(pattern.matches("node_modules", isDirectory: true))
        #expect(!pattern.matches("web/node_modules", isDirectory: true))
        let dotSlash = try #require(IgnorePattern(line: "./tmp", forceAnchored: true))
        #expect(dotSlash.matches("tmp", isDirectory: true))
    }
}

@Suite struct IgnoreMatcherTests {
    @Test func gitDirectoryIsAlwaysIgnored() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(matcher.isIgnored(".git", isDirectory: true))
        #expect(matcher.isIgnored(".git/config", isDirectory: false))
        #expect(matcher.isIgnored("sub/.git/HEAD", isDirectory: false))
        #expect(!matcher.isIgnored(".gitignore", isDirectory: false))
    }

    @Test func negationReincludesButNotBelowAnIgnoredDirectory() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "*.log\n!keep.log\nbuild/\n!build/important.txt\n")
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(matcher.isIgnored("debug.log", isDirectory: false))
        #expect(!matcher.isIgnored("keep.log", isDirectory: false))
        #expect(!matcher.isIgnored("sub/keep.log", isDirectory: false))
        #expect(matcher.isIgnored("build", isDirectory: true))
        // git cannot re-include a file whose parent directory is excluded.
        #expect(matcher.isIgnored("build/important.txt", isDirectory: false))
        // "build/" is directory-only: a file named build is kept.
        #expect(!matcher.isIgnored("build", isDirectory: false))
    }

    @Test func directoryContentsCanBeReincludedWithStarStar() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "/out/*\n!/out/keep\n")
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(!matcher.isIgnored("out", isDirectory: true))
        #expect(matcher.isIgnored("out/a", isDirectory: false))
        #expect(!matcher.isIgnored("out/keep", isDirectory: false))
        #expect(!matcher.isIgnored("src/out/a", isDirectory: false))
    }

    @Test func nestedGitignoreOverridesParentAndIsScopedToItsDirectory() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "*.tmp\n")
        try tree.write("sub/.gitignore", "!special.tmp\n/local-only\n")
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(matcher.isIgnored("x.tmp", isDirectory: false))
        #expect(matcher.isIgnored("special.tmp", isDirectory: false))
        #expect(!matcher.isIgnored("sub/special.tmp", isDirectory: false))
        #expect(matcher.isIgnored("sub/deeper/other.tmp", isDirectory: false))
        #expect(!matcher.isIgnored("sub/deeper/special.tmp", isDirectory: false))
        #expect(matcher.isIgnored("sub/local-only", isDirectory: false))
        #expect(!matcher.isIgnored("local-only", isDirectory: false))
        #expect(!matcher.isIgnored("sub/deeper/local-only", isDirectory: false))
    }

    @Test func doubleStarForms() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "**/logs\nabc/**\na/**/b\n")
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(matcher.isIgnored("logs", isDirectory: true))
        #expect(matcher.isIgnored("x/y/logs", isDirectory: true))
        #expect(matcher.isIgnored("abc/anything/deep", isDirectory: false))
        #expect(!matcher.isIgnored("abc", isDirectory: true))
        #expect(matcher.isIgnored("a/b", isDirectory: false))
        #expect(matcher.isIgnored("a/x/y/b", isDirectory: false))
        #expect(!matcher.isIgnored("z/a/b", isDirectory: false))
    }

    @Test func allSourcesWithPrecedence() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".git/info/exclude", "excluded.txt\nsecret.env\n")
        try tree.write(".gitignore", "!secret.env\n")
        try tree.write(".dockerignore", "node_modules\n*.md\n")
        try tree.write(".swapdevignore", "!README.md\nbig/\n")
        let matcher = IgnoreMatcher(root: tree.url, extraPatterns: ["*.bak", "!keep.bak"])
        #expect(matcher.isIgnored("excluded.txt", isDirectory: false))
        // .gitignore overrides .git/info/exclude.
        #expect(!matcher.isIgnored("secret.env", isDirectory: false))
        #expect(matcher.isIgnored("node_modules", isDirectory: true))
        #expect(!matcher.isIgnored("web/node_modules", isDirectory: true))
        #expect(matcher.isIgnored("CHANGES.md", isDirectory: false))
        #expect(!matcher.isIgnored("README.md", isDirectory: false))
        #expect(matcher.isIgnored("big/file", isDirectory: false))
        #expect(matcher.isIgnored("x.bak", isDirectory: false))
        #expect(!matcher.isIgnored("keep.bak", isDirectory: false))
    }

    @Test func invalidateRereadsChangedFiles() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("sub/.gitignore", "a\n")
        let matcher = IgnoreMatcher(root: tree.url)
        #expect(matcher.isIgnored("sub/a", isDirectory: false))
        try tree.write("sub/.gitignore", "b\n")
        matcher.invalidate()
        #expect(!matcher.isIgnored("sub/a", isDirectory: false))
        #expect(matcher.isIgnored("sub/b", isDirectory: false))
    }

    /// Cross-checks against `git check-ignore` when git is installed (it is part of the dev image).
    @Test func agreesWithGitCheckIgnore() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let git = try run(["git", "--version"])
        try #require(git.status == 0, "git is needed for this test: apt-get install git")
        try run(["git", "init", "-q"], in: tree.path)
        try tree.write(".gitignore", "*.o\n!lib.o\n/root-only\ndocs/**/*.pdf\ntmp/\n**/cache\nfoo[0-9].txt\n")
        try tree.write("src/.gitignore", "!*.o\ngen/\n")
        let paths = ["a.o", "lib.o", "src/a.o", "root-only", "src/root-only", "docs/x/y/a.pdf", "docs/a.pdf",
                     "tmp/file", "src/tmp/file", "x/cache/y", "foo1.txt", "foox.txt", "src/gen/file", "gen/file", "src/keep.c"]
        for path in paths { try tree.write(path) }
        let matcher = IgnoreMatcher(root: tree.url)
        for path in paths {
            let gitSays = try run(["git", "check-ignore", "-q", "--no-index", path], in: tree.path).status == 0
            #expect(matcher.isIgnored(path, isDirectory: false) == gitSays, "\(path): git says ignored=\(gitSays)")
        }
    }
}
