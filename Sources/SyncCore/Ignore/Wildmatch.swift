/// Git's `wildmatch` with `WM_PATHNAME`: the glob dialect of `.gitignore` patterns.
///
/// A port of git's `dowild` (wildmatch.c) so that `*`, `?`, `[…]`, `\` escapes and the three
/// forms of `**` (`**/x`, `x/**`, `a/**/b`) behave exactly as git's. It works on UTF-8 bytes, as
/// git does; `*` and `?` never match `/`.
enum Wildmatch {
    private enum Outcome { case match, noMatch, abortAll, abortToStarStar }

    /// Whether `text` (a slash-separated path, no leading slash) matches `pattern`.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        dowild(Array(pattern.utf8), 0, Array(text.utf8), 0) == .match
    }

    private static func at(_ bytes: [UInt8], _ index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    private static func isGlobSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "\\")
    }

    private static func containsSlash(_ text: [UInt8], from index: Int) -> Int? {
        var i = index
        while i < text.count {
            if text[i] == UInt8(ascii: "/") { return i }
            i += 1
        }
        return nil
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func dowild(_ p: [UInt8], _ startP: Int, _ text: [UInt8], _ startT: Int) -> Outcome {
        let slash = UInt8(ascii: "/")
        var pi = startP
        var ti = startT
        while pi < p.count {
            var pch = p[pi]
            var tch = at(text, ti)
            if tch == 0 && pch != UInt8(ascii: "*") { return .abortAll }
            switch pch {
            case UInt8(ascii: "?"):
                if tch == slash { return .noMatch }
            case UInt8(ascii: "*"):
                var matchSlash: Bool
                pi += 1
                if at(p, pi) == UInt8(ascii: "*") {
                    let prev = pi - 2
                    while at(p, pi) == UInt8(ascii: "*") { pi += 1 }
                    let next = at(p, pi)
                    if (prev < 0 || p[prev] == slash)
                        && (next == 0 || next == slash || (next == UInt8(ascii: "\\") && at(p, pi + 1) == slash)) {
                        // "**/" may match no directory at all: try the rest right here first.
                        if next == slash && dowild(p, pi + 1, text, ti) == .match { return .match }
                        matchSlash = true
                    } else {
                        matchSlash = false
                    }
                } else {
                    matchSlash = false
                }
                if pi >= p.count {
                    // Trailing "**" matches everything; a trailing "*" only within one component.
                    if !matchSlash && containsSlash(text, from: ti) != nil { return .noMatch }
                    return .match
                } else if !matchSlash && p[pi] == slash {
                    // "*/" consumes exactly the rest of one component.
                    guard let next = containsSlash(text, from: ti) else { return .noMatch }
                    ti = next
                    break
                }
                while true {
                    if tch == 0 { break }
                    if !isGlobSpecial(p[pi]) {
                        // Skip ahead to the next occurrence of the literal that follows the star.
                        let literal = p[pi]
                        while true {
                            tch = at(text, ti)
                            if tch == 0 || (!matchSlash && tch == slash) || tch == literal { break }
                            ti += 1
                        }
                        if tch != literal { return .noMatch }
                    }
                    let outcome = dowild(p, pi, text, ti)
                    if outcome != .noMatch {
                        if !matchSlash || outcome != .abortToStarStar { return outcome }
                    } else if !matchSlash && tch == slash {
                        return .abortToStarStar
                    }
                    ti += 1
                    tch = at(text, ti)
                }
                return .abortAll
            case UInt8(ascii: "["):
                pi += 1
                pch = at(p, pi)
                let negated = pch == UInt8(ascii: "!") || pch == UInt8(ascii: "^")
                if negated {
                    pi += 1
                    pch = at(p, pi)
                }
                var prev: UInt8 = 0
                var matched = false
                repeat {
                    if pch == 0 { return .abortAll }
                    if pch == UInt8(ascii: "\\") {
                        pi += 1
                        pch = at(p, pi)
                        if pch == 0 { return .abortAll }
                        if tch == pch { matched = true }
                    } else if pch == UInt8(ascii: "-") && prev != 0 && at(p, pi + 1) != 0 && at(p, pi + 1) != UInt8(ascii: "]") {
                        pi += 1
                        pch = p[pi]
                        if pch == UInt8(ascii: "\\") {
                            pi += 1
                            pch = at(p, pi)
                            if pch == 0 { return .abortAll }
                        }
                        if tch <= pch && tch >= prev { matched = true }
                        pch = 0
                    } else if tch == pch {
                        matched = true
                    }
                    prev = pch
                    pi += 1
                    pch = at(p, pi)
                } while pch != UInt8(ascii: "]")
                if matched == negated || tch == slash { return .noMatch }
            case UInt8(ascii: "\\"):
                pi += 1
                pch = at(p, pi)
                if tch != pch { return .noMatch }
            default:
                if tch != pch { return .noMatch }
            }
            pi += 1
            ti += 1
        }
        return ti < text.count ? .noMatch : .match
    }
}
