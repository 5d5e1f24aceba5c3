/// Why `swapdev dev` stopped; each description says what to do.
public enum DevError: Error, CustomStringConvertible, Sendable, Equatable {
    case alreadySwapped(deployment: String, owner: String)
    case noCommand(deployment: String, container: String)
    case noSyncRule(deployment: String, container: String)
    case localDirectoryMissing(String)
    case noShell(pod: String, container: String, detail: String)
    case noTar(pod: String, container: String)
    case remoteNotWritable(pod: String, container: String, path: String)
    case syncFailed(pod: String, path: String, detail: String)
    case devPodFailed(pod: String, detail: String)
    /// Dev pods kept disappearing (or their container restarting) soon after they started:
    /// something deletes or kills them (a policy, a cleanup job, the OOM killer).
    case devPodKeepsDisappearing(deployment: String, replacements: Int, lastReason: String)

    public var description: String {
        switch self {
        case .alreadySwapped(let deployment, let owner):
            return "deployment \(deployment) is already swapped by \(owner): stop that session, or run `swapdev restore \(deployment)`"
        case .noCommand(let deployment, let container):
            return "container \(container) of deployment \(deployment) has no command in its spec (only its image knows it): give one with --run CMD ARG... or `run:` in swapdev.yaml"
        case .noSyncRule(let deployment, let container):
            return "container \(container) of deployment \(deployment) has no workingDir to sync into: pass --sync LOCAL:/REMOTE"
        case .localDirectoryMissing(let path):
            return "local sync directory \(path) does not exist: create it or fix the LOCAL part of --sync"
        case .noShell(let pod, let container, let detail):
            return "container \(container) of pod \(pod) has no sh (\(detail)): swapdev dev needs sh and tar in the container; use --image with an image that has both, or `swapdev swap` to run the process locally instead"
        case .noTar(let pod, let container):
            return "container \(container) of pod \(pod) has no tar: swapdev dev needs sh and tar in the container; use --image with an image that has both, or `swapdev swap` to run the process locally instead"
        case .remoteNotWritable(let pod, let container, let path):
            return "\(path) in container \(container) of pod \(pod) is not writable: mount a volume there, run as a user that owns it, or sync to another path"
        case .syncFailed(let pod, let path, let detail):
            return "sync to \(path) in pod \(pod) failed (\(detail)); local files are untouched: fix the cause and save again"
        case .devPodFailed(let pod, let detail):
            return "dev pod \(pod) did not start (\(detail)): check `kubectl describe pod \(pod)`"
        case .devPodKeepsDisappearing(let deployment, let replacements, let lastReason):
            return "the dev pods of \(deployment) keep disappearing or restarting (\(replacements) times in a row within a minute each, last: \(lastReason)): find the cause (`kubectl get events`, `kubectl describe pod`), then run swapdev dev again"
        }
    }
}
