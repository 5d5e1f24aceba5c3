/// Why a swap cannot be planned: bad command-line input or a Deployment swapdev cannot swap.
///
/// Every description is one line that names the object or flag and says what to do.
public enum SwapPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidTarget(String)
    /// `-n` is not a namespace name (an RFC 1123 DNS label).
    case invalidNamespace(String)
    /// `swapdev restore NAME` got something that cannot be a Deployment's name.
    case invalidDeploymentName(String)
    case noContainers(deployment: String)
    case containerNotFound(deployment: String, container: String, available: [String])
    case ambiguousContainer(deployment: String, available: [String])
    case invalidPortMapping(String, reason: String)
    case unknownNamedPort(name: String, container: String, available: [String])
    case alreadySwapped(deployment: String, record: SwapRecord)
    case malformedRecord(deployment: String, annotation: String, value: String)
    case missingPodTemplate(deployment: String)
    case invalidEnvironmentDump(reason: String)
    /// A container variable's value is not UTF-8 text (a binary Secret value in `env`).
    case binaryEnvironmentValue(name: String)

    public var description: String {
        switch self {
        case .invalidTarget(let text):
            return "invalid swap target \"\(text)\": use DEPLOYMENT or DEPLOYMENT:CONTAINER (lower-case DNS names)"
        case .invalidNamespace(let text):
            return "invalid namespace \"\(text)\": namespace names are lower-case DNS labels (a-z, 0-9 and '-', at most 63); check -n"
        case .invalidDeploymentName(let text):
            return "invalid deployment name \"\(text)\": use the Deployment's name as `kubectl get deployments` shows it (lower-case DNS name)"
        case .noContainers(let deployment):
            return "deployment \(deployment) has no containers in its pod template; nothing to swap"
        case .containerNotFound(let deployment, let container, let available):
            return "deployment \(deployment) has no container \"\(container)\"; its containers are: \(available.joined(separator: ", "))"
        case .ambiguousContainer(let deployment, let available):
            return "deployment \(deployment) has several containers (\(available.joined(separator: ", "))); "
                + "choose one with \(deployment):CONTAINER"
        case .invalidPortMapping(let text, let reason):
            return "invalid port mapping \"\(text)\": \(reason); use [LOCAL:]REMOTE, e.g. 8080 or 3000:80"
        case .unknownNamedPort(let name, let container, let available):
            let list = available.isEmpty ? "it declares no named ports" : "its named ports are: \(available.joined(separator: ", "))"
            return "container \(container) has no port named \"\(name)\" (\(list)); use a port number instead"
        case .alreadySwapped(let deployment, let record):
            return "deployment \(deployment) is already swapped (swap \(record.id) by \(record.owner) since \(record.startedAtText)); "
                + "undo it with: swapdev restore \(deployment)"
        case .malformedRecord(let deployment, let annotation, let value):
            return "deployment \(deployment) has a malformed swap annotation \(annotation)=\"\(value)\"; "
                + "fix or remove it with kubectl annotate deployment \(deployment) \(annotation)-"
        case .missingPodTemplate(let deployment):
            return "deployment \(deployment) has no spec.template.spec; is it a valid apps/v1 Deployment?"
        case .invalidEnvironmentDump(let reason):
            return "the proxy's environment dump is unreadable (\(reason)); check the proxy image version (--proxy-image)"
        case .binaryEnvironmentValue(let name):
            return "variable \(name) of the container holds bytes that are not UTF-8 text (a binary Secret value?), which swapdev cannot hand to a local process; "
                + "mount that Secret key as a volume instead — volumes are copied to $SWAPDEV_ROOT byte for byte"
        }
    }
}
