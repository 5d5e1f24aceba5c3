import Foundation
import KubeModel
import Yams

/// Turns YAML text into ``JSONValue`` so kubeconfig entries can be read with the same accessors as API objects.
enum YAMLDocument {
    /// Parses `text`; an empty document is an empty object.
    static func parse(_ text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else { return .emptyObject }
        return convert(node)
    }

    /// A plain scalar under the YAML 1.2 core schema (null, bool, decimal int, else string).
    static func coreSchemaValue(_ text: String) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default:
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
            if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let value = Int64(text) { return .int(value) }
            return .string(text)
        }
    }

    private static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            // Quoted scalars are always strings. Plain ones follow the YAML 1.2 core schema: kubeconfig
            // fields are strings and booleans, and Yams' YAML 1.1 resolution would read the
            // sexagesimal-looking `https://host:6443` as a number.
            if scalar.style == .plain { return coreSchemaValue(scalar.string) }
            return .string(scalar.string)
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                let name = key.string ?? ""
                // Duplicate keys are invalid YAML; keep the first so the result is at least stable.
                if members[name] == nil { members[name] = convert(value) }
            }
            return .object(members)
        }
    }
}
