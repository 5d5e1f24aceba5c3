/// `$(VAR)` expansion exactly as the kubelet does it (`third_party/forked/golang/expansion`).
///
/// - `$(NAME)` is replaced when `lookup` knows `NAME`; an unknown name stays literally `$(NAME)`.
/// - `$$` becomes `$`, so `$$(X)` yields the literal `$(X)`.
/// - A `$` not followed by `(` or `$`, and an unterminated `$(`, stay as they are.
/// - No recursion: a replacement is never expanded again.
public enum VariableExpansion {
    public static func expand(_ input: String, lookup: (String) -> String?) -> String {
        guard input.contains("$") else { return input }
        let characters = Array(input)
        var output = ""
        output.reserveCapacity(characters.count)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "$", index + 1 < characters.count else {
                output.append(character)
                index += 1
                continue
            }
            let next = characters[index + 1]
            if next == "$" {
                output.append("$")
                index += 2
            } else if next == "(", let close = characters[(index + 2)...].firstIndex(of: ")") {
                let name = String(characters[(index + 2)..<close])
                if let value = lookup(name) {
                    output += value
                } else {
                    output += "$(\(name))"
                }
                index = close + 1
            } else {
                output.append(character)
                index += 1
            }
        }
        return output
    }
}
