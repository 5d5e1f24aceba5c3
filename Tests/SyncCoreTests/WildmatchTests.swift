import Testing
@testable import SyncCore

@Suite struct WildmatchTests {
    // Cases from git's t/t3070-wildmatch.sh (pathname mode).
    @Test(arguments: [
        ("foo", "foo", true), ("bar", "foo", false), ("", "", true),
        ("???", "foo", true), ("??", "foo", false), ("*", "foo", true), ("f*", "foo", true),
        ("*f", "foo", false), ("*foo*", "foo", true), ("*ob*a*r*", "foobar", true),
        ("*ab", "aaaaaaabababab", true), ("foo\\*", "foo*", true), ("foo\\*bar", "foobar", false),
        ("f\\\\oo", "f\\oo", true), ("*[al]?", "ball", true), ("[ten]", "ten", false),
        ("**[!te]", "ten", true), ("**[!ten]", "ten", false), ("t[a-g]n", "ten", true),
        ("t[!a-g]n", "ten", false), ("t[!a-g]n", "ton", true), ("t[^a-g]n", "ton", true),
        ("a[]]b", "a]b", true), ("a[]-]b", "a-b", true), ("a[]-]b", "a]b", true), ("a[]-]b", "aab", false),
        ("a[]a-]b", "aab", true), ("]", "]", true),
        ("foo*bar", "foo/baz/bar", false), ("foo**bar", "foo/baz/bar", false), ("foo**bar", "foobazbar", true),
        ("foo/**/bar", "foo/baz/bar", true), ("foo/**/**/bar", "foo/baz/bar", true), ("foo/**/bar", "foo/b/a/z/bar", true),
        ("foo/**/**/bar", "foo/b/a/z/bar", true), ("foo/**/bar", "foo/bar", true), ("foo/**/**/bar", "foo/bar", true),
        ("foo?bar", "foo/bar", false), ("foo[/]bar", "foo/bar", false), ("foo[^a-z]bar", "foo/bar", false),
        ("f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo/bar", false), ("f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo-bar", true),
        ("**/foo", "foo", true), ("**/foo", "XXX/foo", true), ("**/foo", "bar/baz/foo", true), ("*/foo", "bar/baz/foo", false),
        ("**/bar*", "foo/bar/baz", false), ("**/bar/*", "deep/foo/bar/baz", true), ("**/bar/*", "deep/foo/bar/baz/", false),
        ("**/bar/**", "deep/foo/bar/baz/", true), ("**/bar/*", "deep/foo/bar", false), ("**/bar/**", "deep/foo/bar/", true),
        ("**/bar**", "foo/bar/baz", false), ("*/bar/**", "foo/bar/baz/x", true), ("*/bar/**", "deep/foo/bar/baz/x", false),
        ("**/bar/*/*", "deep/foo/bar/baz/x", true), ("a[c-c]st", "acrt", false), ("a[c-c]rt", "acrt", true),
        ("[!]-]", "]", false), ("[!]-]", "a", true), ("\\", "", false), ("\\", "\\", false),
        ("*/\\\\", "XXX/\\", true), ("foo", "foo", true), ("@foo", "@foo", true), ("@foo", "foo", false),
        ("\\[ab]", "[ab]", true), ("[[]ab]", "[ab]", true), ("[x-]", "-", true),
        ("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", true),
        ("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", false),
        ("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", true),
        ("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", false),
        ("*/*/*", "foo/bba/arr", true), ("*/*/*", "foo/bb/aa/rr", false), ("**/**/**", "foo/bb/aa/rr", true),
        ("*X*i", "abcXdefXghi", true), ("*/*X*/*/*i", "ab/cXd/efXg/hi", true), ("**/*X*/**/*i", "ab/cXd/efXg/hi", true),
    ])
    func gitWildmatchCases(pattern: String, text: String, expected: Bool) {
        #expect(Wildmatch.matches(pattern, text) == expected, "\(pattern) vs \(text)")
    }
}
