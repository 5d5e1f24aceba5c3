/// A port in the pod, by number or by the name a container declares for it.
public enum PortReference: Sendable, Hashable, CustomStringConvertible {
    case number(Int)
    case name(String)

    public var description: String {
        switch self {
        case .number(let number): return String(number)
        case .name(let name): return name
        }
    }
}

/// `--expose [LOCAL:]REMOTE`: traffic to REMOTE in the pod goes to LOCAL on 127.0.0.1.
///
/// REMOTE may be a container port's name (`--expose 3000:http`); LOCAL defaults to the remote
/// port's number.
public struct PortMapping: Sendable, Hashable, CustomStringConvertible {
    /// The local port; `nil` means "the same number as the remote port".
    public var local: Int?
    public var remote: PortReference

    public init(local: Int? = nil, remote: PortReference) {
        self.local = local
        self.remote = remote
    }

    /// Parses `REMOTE` or `LOCAL:REMOTE`.
    public init(parsing text: String) throws(SwapPlanError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            self.init(local: nil, remote: try Self.parseRemote(parts[0], whole: text))
        case 2:
            self.init(local: try Self.parseNumber(parts[0], side: "local", whole: text),
                      remote: try Self.parseRemote(parts[1], whole: text))
        default:
            throw .invalidPortMapping(text, reason: "too many colons")
        }
    }

    public var description: String {
        local.map { "\($0):\(remote)" } ?? remote.description
    }

    /// Parses a plain port number (`--to-pod PORT`).
    public static func parsePort(_ text: String) throws(SwapPlanError) -> Int {
        try parseNumber(text, side: "port", whole: text)
    }

    private static func parseRemote(_ text: String, whole: String) throws(SwapPlanError) -> PortReference {
        if let first = text.first, first.isNumber {
            return .number(try parseNumber(text, side: "remote", whole: whole))
        }
        // A container port name is an IANA_SVC_NAME: at most 15 lower-case alphanumerics and
        // dashes with at least one letter.
        let valid = (1...15).contains(text.count)
            && text.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" }
            && text.contains { $0.isLetter }
        guard valid else {
            throw .invalidPortMapping(whole, reason: "remote \"\(text)\" is neither a port number nor a container port name")
        }
        return .name(text)
    }

    private static func parseNumber(_ text: String, side: String, whole: String) throws(SwapPlanError) -> Int {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text) else {
            throw .invalidPortMapping(whole, reason: "\(side) port \"\(text)\" is not a number")
        }
        guard (1...65535).contains(number) else {
            throw .invalidPortMapping(whole, reason: "\(side) port \(number) is outside 1-65535")
        }
        return number
    }
}
