/// The `Status` object the API server returns with every failed request (`kind: Status`).
///
/// Shared by the client, which decodes it into typed errors, and the sandbox, which writes it.
public struct KubeStatus: Sendable, Hashable {
    /// A field-level reason, from `details.causes` (JSON key `reason`, Go field `Type`).
    public struct Cause: Sendable, Hashable {
        public var reason: String
        public var message: String
        public var field: String?

        public init(reason: String, message: String, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// HTTP status code, e.g. 404.
    public var code: Int
    /// Machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, …
    public var reason: String
    /// Human-readable message.
    public var message: String
    public var detailsName: String?
    public var detailsGroup: String?
    public var detailsKind: String?
    public var causes: [Cause]

    public init(
        code: Int, reason: String, message: String,
        name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause] = []
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.detailsName = name
        self.detailsGroup = group
        self.detailsKind = kind
        self.causes = causes
    }

    /// Reads a Status object; `nil` when `json` is not one.
    public init?(json: JSONValue) {
        guard json["kind"]?.string == "Status" || json["status"]?.string == "Failure" else { return nil }
        self.code = json["code"]?.int ?? 0
        self.reason = json["reason"]?.string ?? ""
        self.message = json["message"]?.string ?? ""
        let details = json["details"]
        self.detailsName = details?["name"]?.string
        self.detailsGroup = details?["group"]?.string
        self.detailsKind = details?["kind"]?.string
        self.causes = (details?["causes"]?.array ?? []).map {
            Cause(reason: $0["reason"]?.string ?? "", message: $0["message"]?.string ?? "", field: $0["field"]?.string)
        }
    }

    /// The Status as the API server writes it.
    public var json: JSONValue {
        var details: JSONValue = .emptyObject
        if let detailsName { details["name"] = .string(detailsName) }
        if let detailsGroup { details["group"] = .string(detailsGroup) }
        if let detailsKind { details["kind"] = .string(detailsKind) }
        if !causes.isEmpty {
            details["causes"] = .array(causes.map { cause in
                var value: JSONValue = ["reason": .string(cause.reason), "message": .string(cause.message)]
                if let field = cause.field { value["field"] = .string(field) }
                return value
            })
        }
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject,
            "status": "Failure", "message": .string(message), "reason": .string(reason),
            "code": .int(Int64(code)),
        ]
        if details != .emptyObject { status["details"] = details }
        return status
    }
}
