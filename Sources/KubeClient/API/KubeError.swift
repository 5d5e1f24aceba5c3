import Foundation
import KubeModel

/// A failed request: either the API server answered with a `Status`, or the server could not be reached.
///
/// Descriptions are one line naming the object and what to do next.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(KubeStatus)
    case alreadyExists(KubeStatus)
    /// Optimistic-concurrency failure: the object changed since it was read.
    case conflict(KubeStatus)
    case forbidden(KubeStatus)
    case unauthorized(KubeStatus)
    /// Validation failed; see ``KubeStatus/causes``.
    case invalid(KubeStatus)
    /// A resourceVersion too old to watch from (HTTP 410, reasons `Expired`/`Gone`).
    case expired(KubeStatus)
    /// Any other Status.
    case api(KubeStatus)
    /// Nothing listens at the server address.
    case connectionRefused(server: String, source: String)
    /// TLS handshake or verification failed.
    case tls(server: String, reason: String, source: String)
    /// An operation did not finish in time.
    case timeout(operation: String, seconds: Double)
    /// Another network failure (DNS, reset, proxy refused, closed mid-response).
    case transport(server: String, reason: String)
    /// The server answered something that is not what the protocol says.
    case protocolViolation(String)
    /// Port-forward to a pod failed (text from the error channel or a closed stream).
    case portForward(pod: String, port: Int, message: String)
    /// ``KubeClient/waitFor(_:namespace:name:timeout:condition:)`` hit its deadline.
    case waitTimedOut(object: String, seconds: Double, lastReason: String)

    /// The API server's Status, when the error came from one.
    public var status: KubeStatus? {
        switch self {
        case .notFound(let s), .alreadyExists(let s), .conflict(let s), .forbidden(let s), .unauthorized(let s),
            .invalid(let s), .expired(let s), .api(let s):
            return s
        default: return nil
        }
    }

    /// The HTTP status code, when the error came from the API server.
    public var code: Int? { status?.code }

    /// Classifies a Status by reason first, then by code.
    public init(status: KubeStatus) {
        switch (status.reason, status.code) {
        case ("NotFound", _), (_, 404): self = .notFound(status)
        case ("AlreadyExists", _): self = .alreadyExists(status)
        case ("Conflict", _), (_, 409): self = .conflict(status)
        case ("Forbidden", _), (_, 403): self = .forbidden(status)
        case ("Unauthorized", _), (_, 401): self = .unauthorized(status)
        case ("Invalid", _), (_, 422): self = .invalid(status)
        case ("Expired", _), ("Gone", _), (_, 410): self = .expired(status)
        default: self = .api(status)
        }
    }

    /// Builds the error for an HTTP error response; non-Status bodies become a synthetic Status.
    static func from(code: Int, body: Data, request: String) -> KubeError {
        if let json = try? JSONValue(parsing: body), var status = KubeStatus(json: json) {
            if status.code == 0 { status.code = code }
            return KubeError(status: status)
        }
        let text = oneLine(String(decoding: body.prefix(300), as: UTF8.self))
        let reason: String
        switch code {
        case 401: reason = "Unauthorized"
        case 403: reason = "Forbidden"
        case 404: reason = "NotFound"
        case 409: reason = "Conflict"
        case 410: reason = "Expired"
        default: reason = "HTTP\(code)"
        }
        return KubeError(status: KubeStatus(code: code, reason: reason, message: text.isEmpty ? "\(request): HTTP \(code)" : "\(request): \(text)"))
    }

    public var description: String {
        switch self {
        case .notFound(let s):
            return "\(s.message) (404); check the name and the namespace (-n)"
        case .alreadyExists(let s):
            return "\(s.message) (409); delete it first or pick another name"
        case .conflict(let s):
            return "\(s.message) (409 Conflict); re-read the object and retry"
        case .forbidden(let s):
            return "\(s.message) (403); ask a cluster admin for the RBAC permission (`swapdev doctor` lists what is missing)"
        case .unauthorized(let s):
            return "the API server rejected the credentials (401\(s.message.isEmpty ? "" : ": \(s.message)")); log in again or fix the user in your kubeconfig"
        case .invalid(let s):
            let causes = s.causes.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" }.joined(separator: "; ")
            return "\(s.message)\(causes.isEmpty || s.message.contains(causes) ? "" : " [\(causes)]") (422); fix the object"
        case .expired(let s):
            return "\(s.message) (410); the resourceVersion is too old, list again"
        case .api(let s):
            return "\(s.message.isEmpty ? s.reason : s.message) (\(s.code)\(s.reason.isEmpty ? "" : " \(s.reason)"))"
        case .connectionRefused(let server, let source):
            return "connection to \(server) refused; is the cluster running? check the server URL in kubeconfig \(source)"
        case .tls(let server, let reason, let source):
            return "TLS with \(server) failed: \(reason); check certificate-authority/tls-server-name in kubeconfig \(source)"
        case .timeout(let operation, let seconds):
            return "\(operation) timed out after \(String(format: "%g", seconds))s; check that the cluster is reachable"
        case .transport(let server, let reason):
            return "cannot talk to \(server): \(reason)"
        case .protocolViolation(let text):
            return "unexpected answer from the API server: \(text)"
        case .portForward(let pod, let port, let message):
            return "port-forward to pod \(pod) port \(port) failed: \(oneLine(message)); check that the pod is running and listens on \(port)"
        case .waitTimedOut(let object, let seconds, let reason):
            return "\(object) not ready after \(String(format: "%g", seconds))s: \(reason)"
        }
    }
}
