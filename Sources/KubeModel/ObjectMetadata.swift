/// Convenience views of the `metadata` of any Kubernetes object held as ``JSONValue``.
extension JSONValue {
    /// `metadata.name`.
    public var name: String? {
        get { self[path: ["metadata", "name"]]?.string }
        set { self[path: ["metadata", "name"]] = newValue.map(JSONValue.string) }
    }

    /// `metadata.namespace`.
    public var namespace: String? {
        get { self[path: ["metadata", "namespace"]]?.string }
        set { self[path: ["metadata", "namespace"]] = newValue.map(JSONValue.string) }
    }

    /// `metadata.resourceVersion`, an opaque token: compare only for equality.
    public var resourceVersion: String? {
        get { self[path: ["metadata", "resourceVersion"]]?.string }
        set { self[path: ["metadata", "resourceVersion"]] = newValue.map(JSONValue.string) }
    }

    /// `metadata.uid`.
    public var uid: String? { self[path: ["metadata", "uid"]]?.string }

    /// `metadata.labels`, empty when unset.
    public var labels: [String: String] {
        get { self[path: ["metadata", "labels"]]?.stringMap ?? [:] }
        set { self[path: ["metadata", "labels"]] = newValue.isEmpty ? JSONValue?.none : JSONValue(stringMap: newValue) }
    }

    /// `metadata.annotations`, empty when unset.
    public var annotations: [String: String] {
        get { self[path: ["metadata", "annotations"]]?.stringMap ?? [:] }
        set { self[path: ["metadata", "annotations"]] = newValue.isEmpty ? JSONValue?.none : JSONValue(stringMap: newValue) }
    }

    /// `kind`.
    public var kind: String? { self["kind"]?.string }
}
