import Foundation
import KubeModel

/// One bearer token per service account, kept in a Secret `NAME-token` of type
/// `kubernetes.io/service-account-token` (with `token`, `ca.crt`, `namespace`), and what every
/// new namespace gets: the `default` service account and the `kube-root-ca.crt` ConfigMap.
struct ServiceAccountTokens: Sendable {
    let authenticator: TokenAuthenticator
    let caCertificate: Data

    static func secretName(_ serviceAccount: String) -> String { "\(serviceAccount)-token" }

    /// Creates what a namespace starts with; called right after the namespace is stored so a pod
    /// created next already finds its service account.
    func bootstrap(namespace: String, registry: Registry) {
        _ = try? registry.create(ResourceCatalog.serviceAccounts, namespace: namespace, body: ["metadata": ["name": "default"]])
        _ = try? registry.create(ResourceCatalog.configMaps, namespace: namespace, body: [
            "metadata": ["name": "kube-root-ca.crt"],
            "data": ["ca.crt": .string(String(decoding: caCertificate, as: UTF8.self))],
        ])
    }

    /// Creates the token secret of a new service account and accepts its token.
    func issueToken(serviceAccount: JSONValue, registry: Registry) {
        guard let name = serviceAccount.name, let namespace = serviceAccount.namespace else { return }
        let token = ObjectIdentity.randomToken()
        let secret: JSONValue = [
            "metadata": [
                "name": .string(Self.secretName(name)),
                "annotations": ["kubernetes.io/service-account.name": .string(name), "kubernetes.io/service-account.uid": .string(serviceAccount.uid ?? "")],
            ],
            "type": "kubernetes.io/service-account-token",
            "data": [
                "token": .string(Data(token.utf8).base64EncodedString()),
                "ca.crt": .string(caCertificate.base64EncodedString()),
                "namespace": .string(Data(namespace.utf8).base64EncodedString()),
            ],
        ]
        if (try? registry.create(ResourceCatalog.secrets, namespace: namespace, body: secret)) != nil {
            authenticator.register(token: token, namespace: namespace, serviceAccount: name)
        }
    }

    /// Accepts the token of a token secret that exists (e.g. after a restart from saved state).
    func register(secret: JSONValue) {
        guard secret["type"]?.string == "kubernetes.io/service-account-token",
              let account = secret.annotations["kubernetes.io/service-account.name"],
              let encoded = secret[path: ["data", "token"]]?.string, let data = Data(base64Encoded: encoded)
        else { return }
        authenticator.register(token: String(decoding: data, as: UTF8.self), namespace: secret.namespace ?? "", serviceAccount: account)
    }

    func unregister(secret: JSONValue) {
        guard secret["type"]?.string == "kubernetes.io/service-account-token",
              let encoded = secret[path: ["data", "token"]]?.string, let data = Data(base64Encoded: encoded)
        else { return }
        authenticator.unregister(token: String(decoding: data, as: UTF8.self))
    }

    /// The projected volume the ServiceAccount admission plugin adds to every pod.
    static func apiAccessVolume(name: String) -> JSONValue {
        [
            "name": .string(name),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                ],
            ],
        ]
    }

    /// Adds the token volume and its mount at /var/run/secrets/kubernetes.io/serviceaccount,
    /// unless the pod opts out or already mounts something there.
    static func admit(pod: inout JSONValue) {
        guard pod[path: ["spec", "automountServiceAccountToken"]]?.bool != false else { return }
        let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
        let volumeName = "kube-api-access-\(ObjectIdentity.randomSuffix())"
        var added = false
        for field in ["containers", "initContainers"] {
            guard var containers = pod[path: ["spec", field]]?.array else { continue }
            for index in containers.indices {
                var mounts = containers[index]["volumeMounts"]?.array ?? []
                if mounts.contains(where: { $0["mountPath"]?.string == mountPath }) { continue }
                mounts.append(["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)])
                containers[index]["volumeMounts"] = .array(mounts)
                added = true
            }
            pod[path: ["spec", field]] = .array(containers)
        }
        if added {
            var volumes = pod[path: ["spec", "volumes"]]?.array ?? []
            volumes.append(apiAccessVolume(name: volumeName))
            pod[path: ["spec", "volumes"]] = .array(volumes)
        }
    }
}
