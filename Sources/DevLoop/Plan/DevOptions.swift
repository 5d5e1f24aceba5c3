import Foundation
import SwapPlan
import SyncCore

/// Everything `swapdev dev` was asked to do, after `swapdev.yaml` and flags were merged.
public struct DevOptions: Sendable {
    public var target: SwapTarget
    /// Namespace; `nil` uses the client's default.
    public var namespace: String?
    /// Local → container directories. Empty means `.` → the container's `workingDir`.
    public var syncRules: [SyncRule]
    /// Replaces the container's image in the dev pod.
    public var image: String?
    /// The command to run instead of the container's `command` + `args`.
    public var run: [String]?
    /// Restart the process after each sync (`--no-restart` turns it off).
    public var restart: Bool
    public var portForwards: [PortForwardSpec]
    /// Stream the container's log.
    public var logs: Bool
    /// Environment overrides for the container.
    public var environment: [String: String]
    /// Extra gitignore-style patterns.
    public var ignore: [String]
    /// Keep the container's probes (they are removed by default: a restarting dev process
    /// would otherwise get the pod killed).
    public var keepProbes: Bool
    /// How local changes are noticed.
    public var watchMode: FileWatcher.Mode
    /// How long changes must pause before they are synced.
    public var debounce: Duration
    /// Local paths are relative to this directory.
    public var workingDirectory: URL

    public init(
        target: SwapTarget, namespace: String? = nil, syncRules: [SyncRule] = [], image: String? = nil,
        run: [String]? = nil, restart: Bool = true, portForwards: [PortForwardSpec] = [], logs: Bool = true,
        environment: [String: String] = [:], ignore: [String] = [], keepProbes: Bool = false,
        watchMode: FileWatcher.Mode = .automatic, debounce: Duration = .milliseconds(50),
        workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) {
        self.target = target
        self.namespace = namespace
        self.syncRules = syncRules
        self.image = image
        self.run = run
        self.restart = restart
        self.portForwards = portForwards
        self.logs = logs
        self.environment = environment
        self.ignore = ignore
        self.keepProbes = keepProbes
        self.watchMode = watchMode
        self.debounce = debounce
        self.workingDirectory = workingDirectory
    }

    /// The local directory of a rule, resolved against ``workingDirectory``.
    public func localRoot(of rule: SyncRule) -> URL {
        if rule.local.hasPrefix("/") { return URL(fileURLWithPath: rule.local).standardizedFileURL }
        return workingDirectory.appendingPathComponent(rule.local).standardizedFileURL
    }
}
