import KubeModel

/// A failed API request: carries the `Status` the server answers with.
struct APIError: Error, Sendable, CustomStringConvertible {
    var status: KubeStatus

    var description: String { "\(status.code) \(status.reason): \(status.message)" }

    init(_ status: KubeStatus) { self.status = status }

    init(code: Int, reason: String, message: String, name: String? = nil, type: ResourceType? = nil, causes: [KubeStatus.Cause] = []) {
        status = KubeStatus(
            code: code, reason: reason, message: message, name: name,
            group: type.map { $0.api.group }, kind: type.map { $0.api.plural }, causes: causes)
    }

    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found", name: name, type: type)
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(type.qualifiedName) \"\(name)\" already exists", name: name, type: type)
    }

    /// The optimistic-lock failure, with the real API server's wording.
    static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            name: name, type: type)
    }

    static func invalid(_ type: ResourceType, _ name: String, causes: [KubeStatus.Cause]) -> APIError {
        let kind = type.api.kind
        let detail = causes.map { "\($0.field ?? ""): \($0.message)" }.joined(separator: ", ")
        return APIError(
            code: 422, reason: "Invalid", message: "\(kind) \"\(name)\" is invalid: \(detail)", name: name, type: type, causes: causes)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource (\(method) \(path))")
    }

    static func pathNotFound(_ path: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (path \(path))")
    }

    static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }
}
