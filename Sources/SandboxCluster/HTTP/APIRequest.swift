import Foundation
import KubeModel

/// One HTTP request as the API layer sees it.
struct APIRequest: Sendable {
    var method: String
    /// The path without the query, percent-decoded per segment by the router.
    var path: String
    var query: [String: [String]]
    var headers: [String: String]
    var body: Data

    init(method: String, uri: String, headers: [String: String], body: Data) {
        self.method = method
        self.headers = headers
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = parts.first.map(String.init) ?? "/"
        var query: [String: [String]] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.decode(String(kv[0]))
                let value = kv.count > 1 ? Self.decode(String(kv[1])) : ""
                query[key, default: []].append(value)
            }
        }
        self.query = query
    }

    private static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }

    /// The first value of a query parameter.
    func parameter(_ name: String) -> String? { query[name]?.first }

    /// All values of a repeated query parameter, also splitting comma lists (`ports=1,2`).
    func parameters(_ name: String) -> [String] { query[name] ?? [] }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func boolParameter(_ name: String) -> Bool {
        guard let value = parameter(name) else { return false }
        return value == "true" || value == "1" || value.isEmpty
    }
}

/// What the API layer answers.
enum APIResponse: Sendable {
    /// A complete JSON body.
    case json(status: Int, JSONValue)
    /// A complete body of another type (plain-text logs).
    case data(status: Int, contentType: String, Data)
    /// A chunked body written as the stream yields (watch, log follow); ends when the stream ends.
    case stream(status: Int, contentType: String, AsyncStream<Data>)

    static func status(_ error: APIError) -> APIResponse {
        .json(status: error.status.code, error.status.json)
    }

    static func ok(_ object: JSONValue) -> APIResponse { .json(status: 200, object) }
}
