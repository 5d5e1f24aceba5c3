import Foundation
import KubeModel

/// ownerReference cascade: background (dependents go after the owner), foreground (the owner,
/// holding the `foregroundDeletion` finalizer, goes after its dependents) and orphan (the
/// dependents lose their ownerReference). Also empties and removes Terminating namespaces.
actor GarbageCollector {
    private let registry: Registry
    private let tokens: ServiceAccountTokens?

    init(registry: Registry, tokens: ServiceAccountTokens?) {
        self.registry = registry
        self.tokens = tokens
    }

    /// Namespaced kinds that may own or be owned.
    private static let dependentKinds = ResourceCatalog.all.filter { $0.api.namespaced && $0.verbs.contains("delete") }

    func handle(_ event: StoreEvent) async {
        let object = event.object
        if event.resource == ResourceCatalog.secrets.key {
            if event.kind == .deleted { tokens?.unregister(secret: object) } else { tokens?.register(secret: object) }
        }
        if event.resource == ResourceCatalog.namespaces.key, event.kind != .deleted,
           object[path: ["metadata", "deletionTimestamp"]] != nil
        {
            emptyNamespace(object.name ?? "")
            return
        }
        if event.kind == .deleted {
            if let uid = object.uid { deleteDependents(of: uid, namespace: object.namespace) }
            // A dependent going away may release a foreground-deleting owner or a namespace.
            for owner in object[path: ["metadata", "ownerReferences"]]?.array ?? [] {
                if let uid = owner["uid"]?.string { releaseForegroundOwner(uid: uid, namespace: object.namespace) }
            }
            if let namespace = object.namespace { finishNamespaceIfEmpty(namespace) }
            return
        }
        guard object[path: ["metadata", "deletionTimestamp"]] != nil, let uid = object.uid else { return }
        let finalizers = (object[path: ["metadata", "finalizers"]]?.array ?? []).compactMap(\.string)
        if finalizers.contains("orphan") {
            orphanDependents(of: uid, namespace: object.namespace)
            removeFinalizer("orphan", from: object, resource: event.resource)
        } else if finalizers.contains("foregroundDeletion") {
            deleteDependents(of: uid, namespace: object.namespace, propagation: "Foreground")
            releaseForegroundOwner(uid: uid, namespace: object.namespace)
        }
    }

    private func dependents(of uid: String, namespace: String?) -> [(ResourceType, JSONValue)] {
        var result: [(ResourceType, JSONValue)] = []
        for type in Self.dependentKinds {
            for item in registry.list(type, namespace: namespace).items
            where (item[path: ["metadata", "ownerReferences"]]?.array ?? []).contains(where: { $0["uid"]?.string == uid }) {
                result.append((type, item))
            }
        }
        return result
    }

    private func deleteDependents(of uid: String, namespace: String?, propagation: String = "Background") {
        for (type, item) in dependents(of: uid, namespace: namespace) where item[path: ["metadata", "deletionTimestamp"]] == nil {
            var options = DeleteOptions()
            options.propagationPolicy = propagation
            _ = try? registry.delete(type, namespace: item.namespace, name: item.name ?? "", options: options)
        }
    }

    private func orphanDependents(of uid: String, namespace: String?) {
        for (type, item) in dependents(of: uid, namespace: namespace) {
            var updated = item
            let owners = (item[path: ["metadata", "ownerReferences"]]?.array ?? []).filter { $0["uid"]?.string != uid }
            updated[path: ["metadata", "ownerReferences"]] = owners.isEmpty ? nil : .array(owners)
            updated.resourceVersion = nil
            _ = try? registry.update(type, namespace: item.namespace, name: item.name ?? "", body: updated)
        }
    }

    /// Lets a foreground-deleting owner go once none of its dependents exist any more.
    private func releaseForegroundOwner(uid: String, namespace: String?) {
        guard dependents(of: uid, namespace: namespace).isEmpty else { return }
        for type in Self.dependentKinds {
            for item in registry.list(type, namespace: namespace).items where item.uid == uid {
                removeFinalizer("foregroundDeletion", from: item, resource: type.key)
            }
        }
    }

    private func removeFinalizer(_ finalizer: String, from object: JSONValue, resource: String) {
        guard let type = ResourceCatalog.all.first(where: { $0.key == resource }) else { return }
        var updated = object
        let remaining = (object[path: ["metadata", "finalizers"]]?.array ?? []).filter { $0.string != finalizer }
        updated[path: ["metadata", "finalizers"]] = remaining.isEmpty ? nil : .array(remaining)
        updated.resourceVersion = nil
        _ = try? registry.update(type, namespace: object.namespace, name: object.name ?? "", body: updated)
        if remaining.isEmpty, type.key == ResourceCatalog.pods.key {
            // Pods are removed by the pod controller once stopped; a stopped pod may be waiting on us.
            registry.finalize(type, namespace: object.namespace, name: object.name ?? "", uid: nil)
        }
    }

    private func emptyNamespace(_ namespace: String) {
        for type in Self.dependentKinds {
            for item in registry.list(type, namespace: namespace).items where item[path: ["metadata", "deletionTimestamp"]] == nil {
                _ = try? registry.delete(type, namespace: namespace, name: item.name ?? "")
            }
        }
        finishNamespaceIfEmpty(namespace)
    }

    private func finishNamespaceIfEmpty(_ namespace: String) {
        guard let ns = try? registry.get(ResourceCatalog.namespaces, namespace: nil, name: namespace),
              ns[path: ["metadata", "deletionTimestamp"]] != nil
        else { return }
        for type in Self.dependentKinds where !registry.list(type, namespace: namespace).items.isEmpty { return }
        _ = try? registry.store.mutate(ResourceCatalog.namespaces.key, namespace: nil, name: namespace) { existing in
            existing?.uid == ns.uid ? .remove : .keep
        }
    }
}
