import Foundation
import KubeModel

/// A JSON patch that cannot be applied; the message goes back to the client.
struct PatchError: Error, Sendable {
    var message: String
}

/// JSON patch, RFC 6902: `add`, `remove`, `replace`, `move`, `copy` and `test` on JSON pointers.
enum JSONPatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) throws -> JSONValue {
        guard let operations = patch.array else { throw PatchError(message: "json patch must be an array of operations") }
        var document = target
        for operation in operations {
            guard let op = operation["op"]?.string, let path = operation["path"]?.string else {
                throw PatchError(message: "json patch operation needs \"op\" and \"path\": \(operation)")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw PatchError(message: "add operation does not contain a value") }
                document = try add(value, at: pointer, in: document)
            case "remove":
                document = try remove(at: pointer, in: document).document
            case "replace":
                guard let value = operation["value"] else { throw PatchError(message: "replace operation does not contain a value") }
                document = try remove(at: pointer, in: document).document
                document = try add(value, at: pointer, in: document)
            case "move", "copy":
                guard let fromText = operation["from"]?.string else { throw PatchError(message: "\(op) operation does not contain a from path") }
                let from = try parsePointer(fromText)
                let value = try get(from, in: document)
                if op == "move" { document = try remove(at: from, in: document).document }
                document = try add(value, at: pointer, in: document)
            case "test":
                let expected = operation["value"] ?? .null
                let actual = try? get(pointer, in: document)
                guard actual == expected else {
                    throw PatchError(message: "testing value \(path) failed")
                }
            default:
                throw PatchError(message: "Unexpected kind: \(op)")
            }
        }
        return document
    }

    static func parsePointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw PatchError(message: "invalid JSON pointer \(path): must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ pointer: [String], in document: JSONValue) throws -> JSONValue {
        var current = document
        for token in pointer {
            if case .array(let elements) = current {
                guard let index = Int(token), elements.indices.contains(index) else {
                    throw PatchError(message: "index \(token) out of bounds")
                }
                current = elements[index]
            } else if let member = current[token] {
                current = member
            } else {
                throw PatchError(message: "path \(pointer.joined(separator: "/")) does not exist")
            }
        }
        return current
    }

    private static func add(_ value: JSONValue, at pointer: [String], in document: JSONValue) throws -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .array(var elements):
            if rest.isEmpty {
                if token == "-" {
                    elements.append(value)
                } else {
                    guard let index = Int(token), index >= 0, index <= elements.count else {
                        throw PatchError(message: "add operation: index \(token) out of bounds")
                    }
                    elements.insert(value, at: index)
                }
                return .array(elements)
            }
            guard let index = Int(token), elements.indices.contains(index) else {
                throw PatchError(message: "add operation: index \(token) out of bounds")
            }
            elements[index] = try add(value, at: rest, in: elements[index])
            return .array(elements)
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else {
                    throw PatchError(message: "add operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))")
                }
                members[token] = try add(value, at: rest, in: child)
            }
            return .object(members)
        default:
            throw PatchError(message: "add operation does not apply: /\(pointer.joined(separator: "/")) is not a container")
        }
    }

    private static func remove(at pointer: [String], in document: JSONValue) throws -> (document: JSONValue, removed: JSONValue) {
        guard let token = pointer.first else { throw PatchError(message: "cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .array(var elements):
            guard let index = Int(token), elements.indices.contains(index) else {
                throw PatchError(message: "remove operation: index \(token) out of bounds")
            }
            if rest.isEmpty {
                let removed = elements.remove(at: index)
                return (.array(elements), removed)
            }
            let (child, removed) = try remove(at: rest, in: elements[index])
            elements[index] = child
            return (.array(elements), removed)
        case .object(var members):
            guard let child = members[token] else {
                throw PatchError(message: "remove operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))")
            }
            if rest.isEmpty {
                members[token] = nil
                return (.object(members), child)
            }
            let (newChild, removed) = try remove(at: rest, in: child)
            members[token] = newChild
            return (.object(members), removed)
        default:
            throw PatchError(message: "remove operation does not apply: /\(pointer.joined(separator: "/"))")
        }
    }
}
