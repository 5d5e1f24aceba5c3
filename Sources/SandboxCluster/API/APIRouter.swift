import Foundation
import KubeModel

/// Routes every request of the sandbox API: authentication, discovery, resources, subresources.
final class APIRouter: HTTPService {
    let registry: Registry
    let authenticator: TokenAuthenticator
    let streams: PodStreams

    init(registry: Registry, authenticator: TokenAuthenticator, streams: PodStreams) {
        self.registry = registry
        self.authenticator = authenticator
        self.streams = streams
    }

    static let unauthorized = KubeStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")

    func handle(_ request: APIRequest) async -> APIResponse {
        guard let user = authenticator.authenticate(authorization: request.header("authorization")) else {
            return .json(status: 401, Self.unauthorized.json)
        }
        do {
            return try await route(request, user: user)
        } catch let error as APIError {
            return .status(error)
        } catch let error as SelectorError {
            return .status(.badRequest(error.message))
        } catch {
            return .status(.internalError("\(error)"))
        }
    }

    private func route(_ request: APIRequest, user: AuthenticatedUser) async throws -> APIResponse {
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        switch path {
        case "/version": return .ok(Discovery.version())
        case "/healthz", "/livez", "/readyz": return .data(status: 200, contentType: "text/plain", Data("ok".utf8))
        case "/api": return .ok(Discovery.coreVersions())
        case "/apis": return .ok(Discovery.groups())
        case "/openapi/v3": return .ok(OpenAPI.root())
        default: break
        }
        if path.hasPrefix("/openapi/v3/"), let document = OpenAPI.document(path: String(path.dropFirst("/openapi/v3/".count))) {
            return .ok(document)
        }
        let segments = path.split(separator: "/").map(String.init)
        if segments.count == 2, segments[0] == "api", let list = Discovery.resourceList(group: "", version: segments[1]) {
            return .ok(list)
        }
        if segments.count == 2, segments[0] == "apis", let group = Discovery.group(named: segments[1]) {
            return .ok(group)
        }
        if segments.count == 3, segments[0] == "apis", let list = Discovery.resourceList(group: segments[1], version: segments[2]) {
            return .ok(list)
        }
        guard let apiPath = APIPath(path),
              let type = ResourceCatalog.lookup(group: apiPath.group, version: apiPath.version, plural: apiPath.plural)
        else {
            throw APIError.pathNotFound(path)
        }
        if let name = apiPath.name, let sub = apiPath.subresource {
            return try await subresource(request, type: type, path: apiPath, name: name, sub: sub)
        }
        if let name = apiPath.name {
            return try object(request, type: type, path: apiPath, name: name)
        }
        return try await collection(request, type: type, path: apiPath, user: user)
    }

    // MARK: Collections

    private func collection(_ request: APIRequest, type: ResourceType, path: APIPath, user: AuthenticatedUser) async throws -> APIResponse {
        switch request.method {
        case "GET":
            guard type.verbs.contains("list") else { throw APIError.methodNotAllowed(request.method, request.path) }
            let labels = try LabelSelector(parsing: request.parameter("labelSelector") ?? "")
            let fields = try request.parameter("fieldSelector").map { try FieldSelector(parsing: $0) }
            try fields?.validate()
            if request.boolParameter("watch") {
                return try WatchStreamer.stream(request, type: type, namespace: path.namespace, labels: labels, fields: fields, store: registry.store)
            }
            let (items, revision) = registry.list(type, namespace: path.namespace, labels: labels, fields: fields)
            let list: JSONValue = [
                "kind": .string("\(type.api.kind)List"), "apiVersion": .string(Self.apiVersion(type, path)),
                "metadata": ["resourceVersion": .string(String(revision))],
                "items": .array(items.map { Self.present($0, type: type, path: path) }),
            ]
            return .ok(TableConverter.wantsTable(request) ? TableConverter.table(type: type, list: list) : list)
        case "POST":
            let body = try Self.parseBody(request)
            if type.key == ResourceCatalog.selfSubjectAccessReviews.key { return Reviews.accessReview(body) }
            if type.key == ResourceCatalog.selfSubjectReviews.key { return Reviews.subjectReview(user) }
            let created = try registry.create(type, namespace: path.namespace, body: body, dryRun: Self.isDryRun(request))
            return .json(status: 201, Self.present(created, type: type, path: path))
        case "DELETE":
            guard type.verbs.contains("deletecollection") else { throw APIError.methodNotAllowed(request.method, request.path) }
            let labels = try LabelSelector(parsing: request.parameter("labelSelector") ?? "")
            let fields = try request.parameter("fieldSelector").map { try FieldSelector(parsing: $0) }
            let options = try Self.deleteOptions(request)
            var deleted: [JSONValue] = []
            for item in registry.list(type, namespace: path.namespace, labels: labels, fields: fields).items {
                if let object = try? registry.delete(type, namespace: item.namespace, name: item.name ?? "", options: options) {
                    deleted.append(Self.present(object, type: type, path: path))
                }
            }
            return .ok(["kind": .string("\(type.api.kind)List"), "apiVersion": .string(Self.apiVersion(type, path)),
                        "metadata": .emptyObject, "items": .array(deleted)])
        default:
            throw APIError.methodNotAllowed(request.method, request.path)
        }
    }

    // MARK: Objects

    private func object(_ request: APIRequest, type: ResourceType, path: APIPath, name: String) throws -> APIResponse {
        let namespace = path.namespace
        switch request.method {
        case "GET":
            let object = try registry.get(type, namespace: namespace, name: name)
            if TableConverter.wantsTable(request) {
                return .ok(TableConverter.table(type: type, list: ["items": [object], "metadata": ["resourceVersion": object["metadata"]?["resourceVersion"] ?? ""]]))
            }
            return .ok(Self.present(object, type: type, path: path))
        case "PUT":
            let body = try Self.parseBody(request)
            return .ok(Self.present(try registry.update(type, namespace: namespace, name: name, body: body, dryRun: Self.isDryRun(request)), type: type, path: path))
        case "PATCH":
            let patched = try registry.patch(
                type, namespace: namespace, name: name, contentType: request.header("content-type") ?? "",
                body: request.body, dryRun: Self.isDryRun(request))
            return .ok(Self.present(patched, type: type, path: path))
        case "DELETE":
            let deleted = try registry.delete(type, namespace: namespace, name: name, options: try Self.deleteOptions(request))
            return .ok(Self.present(deleted, type: type, path: path))
        default:
            throw APIError.methodNotAllowed(request.method, request.path)
        }
    }

    // MARK: Subresources

    private func subresource(_ request: APIRequest, type: ResourceType, path: APIPath, name: String, sub: String) async throws -> APIResponse {
        guard type.subresources.contains(sub) else { throw APIError.pathNotFound(request.path) }
        let namespace = path.namespace
        switch (sub, request.method) {
        case ("status", "GET"):
            return .ok(Self.present(try registry.get(type, namespace: namespace, name: name), type: type, path: path))
        case ("status", "PUT"):
            let body = try Self.parseBody(request)
            return .ok(Self.present(try registry.update(type, namespace: namespace, name: name, body: body, subresource: "status"), type: type, path: path))
        case ("status", "PATCH"):
            let patched = try registry.patch(type, namespace: namespace, name: name, contentType: request.header("content-type") ?? "", body: request.body, subresource: "status")
            return .ok(Self.present(patched, type: type, path: path))
        case ("scale", _):
            return try ScaleSubresource.handle(request, type: type, namespace: namespace ?? "default", name: name, registry: registry)
        case ("log", "GET"):
            return try await streams.logs(request, namespace: namespace ?? "default", name: name)
        case ("exec", _), ("portforward", _), ("attach", _):
            throw APIError(code: 400, reason: "BadRequest",
                           message: "pods/\(sub) needs a WebSocket upgrade with subprotocol \(sub == "portforward" ? "v4.channel.k8s.io (or none)" : "v5.channel.k8s.io or v4.channel.k8s.io"); the sandbox does not speak SPDY")
        default:
            throw APIError.methodNotAllowed(request.method, request.path)
        }
    }

    // MARK: WebSockets

    func webSocketProtocol(for request: APIRequest) -> String? {
        guard authenticator.authenticate(authorization: request.header("authorization")) != nil,
              let path = APIPath(request.path), path.plural == "pods", path.group.isEmpty, path.name != nil
        else { return nil }
        let offered = (request.header("sec-websocket-protocol") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let supported: [String]
        switch path.subresource {
        case "exec", "attach": supported = [ChannelProtocol.v5.rawValue, ChannelProtocol.v4.rawValue]
        case "portforward": supported = [ChannelProtocol.v4.rawValue]
        default: return nil
        }
        if offered.isEmpty { return path.subresource == "portforward" ? "" : nil }
        // The server picks the first protocol in the client's list that it supports.
        return offered.first { supported.contains($0) }
    }

    func runWebSocket(_ request: APIRequest, subprotocol: String, session: WebSocketSession) async {
        guard let path = APIPath(request.path), let name = path.name else { return }
        let namespace = path.namespace ?? "default"
        switch path.subresource {
        case "exec", "attach":
            await streams.exec(request, namespace: namespace, name: name, v5: subprotocol == ChannelProtocol.v5.rawValue, session: session)
        case "portforward":
            await streams.portForward(request, namespace: namespace, name: name, session: session)
        default:
            return
        }
    }

    // MARK: Helpers

    static func apiVersion(_ type: ResourceType, _ path: APIPath) -> String {
        type.api.group.isEmpty ? path.version : "\(type.api.group)/\(path.version)"
    }

    /// The object as served at the requested version.
    static func present(_ object: JSONValue, type: ResourceType, path: APIPath) -> JSONValue {
        var object = object
        object["apiVersion"] = .string(apiVersion(type, path))
        object["kind"] = .string(type.api.kind)
        return object
    }

    static func parseBody(_ request: APIRequest) throws -> JSONValue {
        guard !request.body.isEmpty else { throw APIError.badRequest("the request has no body; send the object as JSON") }
        if let contentType = request.header("content-type"), contentType.contains("yaml") {
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the sandbox accepts only application/json bodies, not \(contentType)")
        }
        do { return try JSONValue(parsing: request.body) } catch {
            throw APIError.badRequest("the body of the request is not valid JSON: \(error)")
        }
    }

    static func isDryRun(_ request: APIRequest) -> Bool {
        request.parameters("dryRun").contains("All")
    }

    static func deleteOptions(_ request: APIRequest) throws -> DeleteOptions {
        var options = DeleteOptions()
        if !request.body.isEmpty, let body = try? JSONValue(parsing: request.body) {
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.int
            options.propagationPolicy = body["propagationPolicy"]?.string
            options.preconditionUID = body[path: ["preconditions", "uid"]]?.string
            options.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.string
            if body["orphanDependents"]?.bool == true { options.propagationPolicy = "Orphan" }
            options.dryRun = (body["dryRun"]?.array ?? []).contains("All")
        }
        if let grace = request.parameter("gracePeriodSeconds").flatMap(Int.init) { options.gracePeriodSeconds = grace }
        if let policy = request.parameter("propagationPolicy") { options.propagationPolicy = policy }
        if isDryRun(request) { options.dryRun = true }
        if let policy = options.propagationPolicy, !["Background", "Foreground", "Orphan"].contains(policy) {
            throw APIError.badRequest("propagationPolicy \(policy) is not one of Background, Foreground, Orphan")
        }
        return options
    }
}
