import Foundation
import KubeModel

/// Options of a DELETE request (`DeleteOptions` body or query).
struct DeleteOptions: Sendable {
    var gracePeriodSeconds: Int?
    /// `Background` (default), `Foreground` or `Orphan`.
    var propagationPolicy: String?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var dryRun = false
}

/// The API server's write semantics on top of the store: defaults, validation, optimistic
/// concurrency, generation, status subresources, graceful deletion and finalizers.
final class Registry: Sendable {
    let store: ObjectStore
    let clusterIPs: ClusterIPAllocator
    /// Issues service-account tokens and seeds new namespaces; `nil` in tests that need neither.
    let tokens: ServiceAccountTokens?

    init(store: ObjectStore, tokens: ServiceAccountTokens? = nil, clusterIPs: ClusterIPAllocator = ClusterIPAllocator()) {
        self.store = store
        self.tokens = tokens
        self.clusterIPs = clusterIPs
    }

    // MARK: Read

    func get(_ type: ResourceType, namespace: String?, name: String) throws -> JSONValue {
        guard let object = store.get(type.key, namespace: type.api.namespaced ? namespace : nil, name: name) else {
            throw APIError.notFound(type, name)
        }
        return object
    }

    func list(_ type: ResourceType, namespace: String?, labels: LabelSelector = .everything, fields: FieldSelector? = nil) -> (items: [JSONValue], revision: Int) {
        let (items, revision) = store.list(type.key, namespace: type.api.namespaced ? namespace : nil)
        let filtered = items.filter { labels.matches($0.labels) && (fields?.matches($0) ?? true) }
        return (filtered, revision)
    }

    // MARK: Create

    /// Creates `body` in `namespace`; returns the stored object.
    @discardableResult
    func create(_ type: ResourceType, namespace: String?, body: JSONValue, dryRun: Bool = false) throws -> JSONValue {
        guard case .object = body else { throw APIError.badRequest("the body of the request was not a JSON object") }
        var object = body
        object["apiVersion"] = .string(type.api.apiVersion)
        object["kind"] = .string(type.api.kind)
        if type.api.namespaced {
            let namespace = namespace ?? object.namespace ?? "default"
            if let bodyNamespace = object.namespace, bodyNamespace != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.namespace = namespace
            try checkNamespaceAcceptsContent(namespace)
        } else {
            object[path: ["metadata", "namespace"]] = nil
        }
        if object.name == nil || object.name == "" {
            guard let prefix = object[path: ["metadata", "generateName"]]?.string, !prefix.isEmpty else {
                throw APIError.invalid(type, "", causes: [.init(
                    reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
            }
            object.name = prefix + ObjectIdentity.randomSuffix()
        }
        let name = object.name ?? ""
        Defaults.apply(type, to: &object)
        if type.key == ResourceCatalog.pods.key { ServiceAccountTokens.admit(pod: &object) }
        let causes = Validation.validate(type, object)
        if !causes.isEmpty { throw APIError.invalid(type, name, causes: causes) }
        if type.key == ResourceCatalog.services.key { try allocateClusterIP(&object, name: name) }

        object[path: ["metadata", "uid"]] = .string(ObjectIdentity.uid())
        object[path: ["metadata", "creationTimestamp"]] = .string(ObjectIdentity.timestamp())
        object[path: ["metadata", "resourceVersion"]] = nil
        object[path: ["metadata", "deletionTimestamp"]] = nil
        object[path: ["metadata", "managedFields"]] = nil
        if type.hasSpec { object[path: ["metadata", "generation"]] = 1 }
        if dryRun {
            if store.get(type.key, namespace: object.namespace, name: name) != nil { throw APIError.alreadyExists(type, name) }
            return object
        }
        let stored = object
        do {
            let result = try store.mutate(type.key, namespace: object.namespace, name: name) { existing in
                if existing != nil { throw APIError.alreadyExists(type, name) }
                return .put(stored)
            } ?? stored
            if type.key == ResourceCatalog.namespaces.key { tokens?.bootstrap(namespace: name, registry: self) }
            if type.key == ResourceCatalog.serviceAccounts.key { tokens?.issueToken(serviceAccount: result, registry: self) }
            return result
        } catch {
            if let ip = stored[path: ["spec", "clusterIP"]]?.string, ip != "None" { clusterIPs.release(ip) }
            throw error
        }
    }

    private func checkNamespaceAcceptsContent(_ namespace: String) throws {
        guard let ns = store.get(ResourceCatalog.namespaces.key, namespace: nil, name: namespace) else {
            throw APIError.notFound(ResourceCatalog.namespaces, namespace)
        }
        if ns[path: ["metadata", "deletionTimestamp"]] != nil {
            throw APIError(code: 403, reason: "Forbidden",
                           message: "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    private func allocateClusterIP(_ object: inout JSONValue, name: String) throws {
        if object[path: ["spec", "type"]]?.string == "ExternalName" { return }
        if let requested = object[path: ["spec", "clusterIP"]]?.string, !requested.isEmpty {
            if requested == "None" {
                object[path: ["spec", "clusterIPs"]] = ["None"]
                return
            }
            guard clusterIPs.reserve(requested) else {
                throw APIError.invalid(ResourceCatalog.services, name, causes: [.init(
                    reason: "FieldValueInvalid", message: "Invalid value: \"\(requested)\": provided IP is already allocated or not in \(clusterIPs.range)",
                    field: "spec.clusterIPs")])
            }
        } else {
            guard let ip = clusterIPs.allocate() else { throw APIError.internalError("the ClusterIP range \(clusterIPs.range) is exhausted") }
            object[path: ["spec", "clusterIP"]] = .string(ip)
        }
        object[path: ["spec", "clusterIPs"]] = [object[path: ["spec", "clusterIP"]] ?? .null]
        object[path: ["spec", "ipFamilies"]] = ["IPv4"]
        object[path: ["spec", "ipFamilyPolicy"]] = "SingleStack"
        object[path: ["spec", "internalTrafficPolicy"]] = "Cluster"
    }

    // MARK: Update

    /// Replaces an object (PUT). With `subresource == "status"` only `status` is taken from `body`;
    /// otherwise `status` is kept from the stored object when the type has a status subresource.
    @discardableResult
    func update(_ type: ResourceType, namespace: String?, name: String, body: JSONValue, subresource: String? = nil, dryRun: Bool = false) throws -> JSONValue {
        guard case .object = body else { throw APIError.badRequest("the body of the request was not a JSON object") }
        if let bodyName = body.name, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let namespace = type.api.namespaced ? namespace : nil
        if let namespace, let bodyNamespace = body.namespace, bodyNamespace != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let result = try store.mutate(type.key, namespace: namespace, name: name) { existing -> StoreChange in
            guard let existing else { throw APIError.notFound(type, name) }
            if let rv = body.resourceVersion, !rv.isEmpty, rv != existing.resourceVersion {
                throw APIError.conflict(type, name)
            }
            let updated = try self.merged(type, existing: existing, body: body, subresource: subresource)
            if updated == existing { return .keep }
            if dryRun { return .keepReturning(updated) }
            if updated[path: ["metadata", "deletionTimestamp"]] != nil,
               (updated[path: ["metadata", "finalizers"]]?.array ?? []).isEmpty,
               type.key != ResourceCatalog.pods.key
            {
                return .remove
            }
            return .put(updated)
        }
        guard let result else { throw APIError.notFound(type, name) }
        return result
    }

    /// The object to store for an update of `existing` with `body`.
    private func merged(_ type: ResourceType, existing: JSONValue, body: JSONValue, subresource: String?) throws -> JSONValue {
        var updated: JSONValue
        if subresource == "status" {
            updated = existing
            updated["status"] = body["status"]
        } else {
            updated = body
            updated["apiVersion"] = .string(type.api.apiVersion)
            updated["kind"] = .string(type.api.kind)
            if type.hasStatus { updated["status"] = existing["status"] }
            // Fields the server owns survive whatever the client sends.
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] {
                updated[path: ["metadata", field]] = existing[path: ["metadata", field]]
            }
            updated[path: ["metadata", "managedFields"]] = nil
            if type.key == ResourceCatalog.services.key {
                // The ClusterIP is immutable once allocated.
                for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                    if updated[path: ["spec", field]] == nil || type.key == ResourceCatalog.services.key {
                        updated[path: ["spec", field]] = existing[path: ["spec", field]]
                    }
                }
            }
            do {
                var defaulted = updated
                Defaults.applyOnUpdate(type, to: &defaulted, existing: existing)
                updated = defaulted
            }
            let causes = Validation.validate(type, updated)
            if !causes.isEmpty { throw APIError.invalid(type, existing.name ?? "", causes: causes) }
            if type.hasSpec, updated["spec"] != existing["spec"] {
                let generation = existing[path: ["metadata", "generation"]]?.int ?? 1
                updated[path: ["metadata", "generation"]] = .int(Int64(generation + 1))
            }
        }
        updated.resourceVersion = existing.resourceVersion
        return updated
    }

    // MARK: Patch

    /// Applies a patch of `contentType` to the stored object and stores the result like an update.
    /// A `metadata.resourceVersion` in the patched result that differs from the stored one is a conflict.
    @discardableResult
    func patch(_ type: ResourceType, namespace: String?, name: String, contentType: String, body: Data, subresource: String? = nil, dryRun: Bool = false) throws -> JSONValue {
        let patch: JSONValue
        do { patch = try JSONValue(parsing: body) } catch { throw APIError.badRequest("the patch is not valid JSON: \(error)") }
        let kind = PatchKind(contentType: contentType)
        guard let kind else {
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
        }
        let namespace = type.api.namespaced ? namespace : nil
        // Retry on races with controllers: a patch has no precondition unless it sets one.
        for _ in 0..<5 {
            let existing = try get(type, namespace: namespace, name: name)
            var patched = try Self.apply(kind, patch: patch, to: existing, type: type, name: name)
            if patched.resourceVersion == nil { patched.resourceVersion = existing.resourceVersion }
            if patched.resourceVersion != existing.resourceVersion, patch[path: ["metadata", "resourceVersion"]] == nil,
               kind != .json
            {
                patched.resourceVersion = existing.resourceVersion
            }
            do {
                return try update(type, namespace: namespace, name: name, body: patched, subresource: subresource, dryRun: dryRun)
            } catch let error as APIError where error.status.reason == "Conflict" && !Self.patchSetsResourceVersion(patch) {
                continue
            }
        }
        throw APIError.conflict(type, name)
    }

    private static func patchSetsResourceVersion(_ patch: JSONValue) -> Bool {
        if patch[path: ["metadata", "resourceVersion"]] != nil { return true }
        return patch.array?.contains { $0["path"]?.string == "/metadata/resourceVersion" } ?? false
    }

    enum PatchKind: Equatable {
        case json, merge, strategic

        init?(contentType: String) {
            switch contentType.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces) }) ?? "" {
            case "application/json-patch+json": self = .json
            case "application/merge-patch+json": self = .merge
            case "application/strategic-merge-patch+json": self = .strategic
            default: return nil
            }
        }
    }

    static func apply(_ kind: PatchKind, patch: JSONValue, to object: JSONValue, type: ResourceType, name: String) throws -> JSONValue {
        do {
            switch kind {
            case .merge: return MergePatch.apply(patch, to: object)
            case .strategic: return try StrategicMergePatch.apply(patch, to: object)
            case .json: return try JSONPatch.apply(patch, to: object)
            }
        } catch let error as PatchError {
            throw APIError(code: 422, reason: "Invalid", message: "\(type.api.kind) \"\(name)\" is invalid: \(error.message)", name: name, type: type)
        }
    }

    // MARK: Delete

    /// Deletes an object, or starts its graceful deletion; returns the object as last stored.
    @discardableResult
    func delete(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()) throws -> JSONValue {
        let namespace = type.api.namespaced ? namespace : nil
        let outcome = try store.mutate(type.key, namespace: namespace, name: name) { existing -> StoreChange in
            guard var object = existing else { throw APIError.notFound(type, name) }
            if let uid = options.preconditionUID, uid != object.uid {
                throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid ?? "")", name: name, type: type)
            }
            if let rv = options.preconditionResourceVersion, rv != object.resourceVersion { throw APIError.conflict(type, name) }
            if options.dryRun { return .keep }
            if type.key == ResourceCatalog.namespaces.key {
                if ["default", "kube-system", "kube-public"].contains(name) {
                    throw APIError(code: 403, reason: "Forbidden", message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted", name: name, type: type)
                }
                // The namespace controller empties it, then removes it.
                if alreadyDeletingNamespace(object) { return .keep }
                object[path: ["metadata", "deletionTimestamp"]] = .string(ObjectIdentity.timestamp())
                object[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
                object[path: ["status", "phase"]] = "Terminating"
                return .put(object)
            }
            var finalizers = (object[path: ["metadata", "finalizers"]]?.array ?? []).compactMap(\.string)
            let alreadyDeleting = object[path: ["metadata", "deletionTimestamp"]] != nil
            switch options.propagationPolicy ?? "Background" {
            case "Foreground" where !finalizers.contains("foregroundDeletion"): finalizers.append("foregroundDeletion")
            case "Orphan" where !finalizers.contains("orphan"): finalizers.append("orphan")
            default: break
            }
            if type.key == ResourceCatalog.pods.key {
                let phase = object[path: ["status", "phase"]]?.string
                var grace = options.gracePeriodSeconds ?? object[path: ["spec", "terminationGracePeriodSeconds"]]?.int ?? 30
                if phase == "Succeeded" || phase == "Failed" { grace = 0 }
                if grace > 0 || !finalizers.isEmpty {
                    // The pod controller stops the processes, then removes the object.
                    let current = object[path: ["metadata", "deletionGracePeriodSeconds"]]?.int
                    if alreadyDeleting, let current, current <= grace, finalizers.count == (object[path: ["metadata", "finalizers"]]?.array ?? []).count {
                        return .keep
                    }
                    object[path: ["metadata", "deletionTimestamp"]] = .string(ObjectIdentity.timestamp(Date().addingTimeInterval(Double(grace))))
                    object[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(Int64(grace))
                    object[path: ["metadata", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers.map(JSONValue.string))
                    return .put(object)
                }
                return .remove
            }
            if !finalizers.isEmpty {
                if !alreadyDeleting {
                    object[path: ["metadata", "deletionTimestamp"]] = .string(ObjectIdentity.timestamp())
                    object[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
                }
                object[path: ["metadata", "finalizers"]] = .array(finalizers.map(JSONValue.string))
                if type.key == ResourceCatalog.namespaces.key { object[path: ["status", "phase"]] = "Terminating" }
                return existing == object ? .keep : .put(object)
            }
            return .remove
        }
        guard let result = outcome else { throw APIError.notFound(type, name) }
        if type.key == ResourceCatalog.services.key, store.get(type.key, namespace: namespace, name: name) == nil,
           let ip = result[path: ["spec", "clusterIP"]]?.string, ip != "None"
        {
            clusterIPs.release(ip)
        }
        return result
    }

    private func alreadyDeletingNamespace(_ object: JSONValue) -> Bool {
        object[path: ["metadata", "deletionTimestamp"]] != nil
    }

    /// Removes an object whose deletion was in progress once nothing holds it any more
    /// (no finalizers); used by controllers after a pod's processes are gone.
    func finalize(_ type: ResourceType, namespace: String?, name: String, uid: String?) {
        _ = try? store.mutate(type.key, namespace: namespace, name: name) { existing -> StoreChange in
            guard let existing, uid == nil || existing.uid == uid,
                  existing[path: ["metadata", "deletionTimestamp"]] != nil,
                  (existing[path: ["metadata", "finalizers"]]?.array ?? []).isEmpty
            else { return .keep }
            return .remove
        }
    }
}
