import Foundation
import LocalProcess
import SSHTunnel
import SwapPlan

/// What a swap has created so far, so that teardown (and an abort message) knows what to undo.
/// Shared between the setup task, the signal monitor and teardown, hence the lock.
final class SwapState: @unchecked Sendable {
    private let lock = NSLock()
    private var _record: SwapRecord?
    private var _recorded = false
    private var _proxyPod: String?
    private var _scaledDown = false
    private var _tunnel: TunnelKeeper?
    private var _outboundProxy: OutboundProxy?
    private var _supervisor: ProcessSupervisor?
    private var _root: URL?
    private var _rootCreated = false
    private var _setup: Task<Void, any Error>?
    private var _writtenSecretFiles: [String] = []

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// `--env-file` / `--env-json` outputs: they hold the container's secrets, so teardown removes them.
    var writtenSecretFiles: [String] { locked { _writtenSecretFiles } }

    func addWrittenSecretFile(_ path: String) {
        locked { _writtenSecretFiles.append(path) }
    }

    var record: SwapRecord? {
        get { locked { _record } }
        set { locked { _record = newValue } }
    }
    var recorded: Bool {
        get { locked { _recorded } }
        set { locked { _recorded = newValue } }
    }
    var proxyPod: String? {
        get { locked { _proxyPod } }
        set { locked { _proxyPod = newValue } }
    }
    var scaledDown: Bool {
        get { locked { _scaledDown } }
        set { locked { _scaledDown = newValue } }
    }
    var tunnel: TunnelKeeper? {
        get { locked { _tunnel } }
        set { locked { _tunnel = newValue } }
    }
    var outboundProxy: OutboundProxy? {
        get { locked { _outboundProxy } }
        set { locked { _outboundProxy = newValue } }
    }
    var supervisor: ProcessSupervisor? {
        get { locked { _supervisor } }
        set { locked { _supervisor = newValue } }
    }
    var root: URL? {
        get { locked { _root } }
        set { locked { _root = newValue } }
    }
    var rootCreated: Bool {
        get { locked { _rootCreated } }
        set { locked { _rootCreated = newValue } }
    }
    var setup: Task<Void, any Error>? {
        get { locked { _setup } }
        set { locked { _setup = newValue } }
    }

    /// What is left in the cluster, for the abort message.
    var leftovers: [String] {
        var result: [String] = []
        if let proxyPod { result.append("proxy pod \(proxyPod)") }
        if scaledDown, let record { result.append("the original scaled to 0 (was \(record.originalReplicas))") }
        if recorded { result.append("the swapdev.dev/ annotations") }
        return result
    }
}

/// The SIGINT/SIGTERM/SIGHUP received so far: the first two still restore, the third aborts.
struct Interrupts {
    var count = 0
    /// A signal held back from the local command until the restore has drained the proxy.
    var deferredSignal: Int32?
}
