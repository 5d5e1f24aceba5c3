import Foundation
import KubeModel

/// A parsed label selector (`a=b,c!=d,e in (f,g),h notin (i),j,!k`).
struct LabelSelector: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement]

    static let everything = LabelSelector(requirements: [])

    /// Parses the query-string form; throws a one-line message for malformed text.
    init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            requirements.append(try Self.parseTerm(term))
        }
        self.requirements = requirements
    }

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// A selector from a `matchLabels` map (Services, `spec.selector.matchLabels`).
    init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    /// A `metav1.LabelSelector` object (`matchLabels` and `matchExpressions`).
    init(object: JSONValue) {
        var requirements = LabelSelector(matchLabels: object["matchLabels"]?.stringMap ?? [:]).requirements
        for expression in object["matchExpressions"]?.array ?? [] {
            guard let key = expression["key"]?.string else { continue }
            let values = Set((expression["values"]?.array ?? []).compactMap(\.string))
            switch expression["operator"]?.string {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.notExists(key))
            default: continue
            }
        }
        self.requirements = requirements
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .isIn(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return !(labels[key].map(values.contains) ?? false)
            case .exists(let key): return labels[key] != nil
            case .notExists(let key): return labels[key] == nil
            }
        }
    }

    /// `a=b,c=d` as shown in Scale's `status.selector`.
    var text: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): return "\(key)=\(value)"
            case .notEquals(let key, let value): return "\(key)!=\(value)"
            case .isIn(let key, let values): return "\(key) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let key, let values): return "\(key) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let key): return key
            case .notExists(let key): return "!\(key)"
            }
        }.joined(separator: ",")
    }

    /// Splits on commas that are not inside `( … )`.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    private static func parseTerm(_ term: String) throws -> Requirement {
        if term.hasPrefix("!") {
            let key = term.dropFirst().trimmingCharacters(in: .whitespaces)
            try checkKey(key, term)
            return .notExists(key)
        }
        for (op, isEqual) in [("!=", false), ("==", true), ("=", true)] {
            if let range = term.range(of: op) {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                try checkKey(key, term)
                return isEqual ? .equals(key, value) : .notEquals(key, value)
            }
        }
        let words = term.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        if words.count == 3, ["in", "notin"].contains(words[1]) {
            let list = words[2].trimmingCharacters(in: .whitespaces)
            guard list.hasPrefix("("), list.hasSuffix(")") else {
                throw SelectorError(message: "unable to parse requirement: found '\(list)', expected: '('")
            }
            let values = Set(list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            try checkKey(words[0], term)
            return words[1] == "in" ? .isIn(words[0], values) : .notIn(words[0], values)
        }
        let key = term.trimmingCharacters(in: .whitespaces)
        try checkKey(key, term)
        return .exists(key)
    }

    private static func checkKey(_ key: String, _ term: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
        guard !key.isEmpty, key.allSatisfy(allowed.contains) else {
            throw SelectorError(message: "unable to parse requirement: invalid label key \"\(key)\" in \"\(term)\"")
        }
    }
}

/// A malformed label or field selector; the message is returned to the client as a 400.
struct SelectorError: Error, Sendable {
    var message: String
}

/// A parsed field selector: `metadata.name=x,status.phase!=Running`.
struct FieldSelector: Sendable {
    var requirements: [(field: String, value: String, equal: Bool)]

    init(parsing text: String) throws {
        var requirements: [(field: String, value: String, equal: Bool)] = []
        for term in text.split(separator: ",") {
            let term = String(term)
            if let range = term.range(of: "!=") {
                requirements.append((String(term[..<range.lowerBound]), String(term[range.upperBound...]), false))
            } else if let range = term.range(of: "==") ?? term.range(of: "=") {
                requirements.append((String(term[..<range.lowerBound]), String(term[range.upperBound...]), true))
            } else {
                throw SelectorError(message: "invalid field selector: '\(term)': expected a field=value requirement")
            }
        }
        self.requirements = requirements
    }

    /// Fields the sandbox can select on, per the real server's field label conversions.
    static func value(of field: String, in object: JSONValue) -> String? {
        switch field {
        case "metadata.name": return object.name ?? ""
        case "metadata.namespace": return object.namespace ?? ""
        case "status.phase": return object[path: ["status", "phase"]]?.string ?? ""
        case "spec.nodeName": return object[path: ["spec", "nodeName"]]?.string ?? ""
        case "spec.restartPolicy": return object[path: ["spec", "restartPolicy"]]?.string ?? ""
        case "spec.serviceAccountName": return object[path: ["spec", "serviceAccountName"]]?.string ?? ""
        case "status.podIP": return object[path: ["status", "podIP"]]?.string ?? ""
        case "type": return object["type"]?.string ?? ""
        case "involvedObject.name": return object[path: ["involvedObject", "name"]]?.string ?? ""
        case "involvedObject.kind": return object[path: ["involvedObject", "kind"]]?.string ?? ""
        case "involvedObject.uid": return object[path: ["involvedObject", "uid"]]?.string ?? ""
        case "involvedObject.namespace": return object[path: ["involvedObject", "namespace"]]?.string ?? ""
        default: return nil
        }
    }

    /// Throws for fields the sandbox does not know, as the real server answers 400.
    func validate() throws {
        for requirement in requirements where Self.value(of: requirement.field, in: .emptyObject) == nil {
            throw SelectorError(message: "field label not supported: \(requirement.field)")
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = Self.value(of: requirement.field, in: object) ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }
}
