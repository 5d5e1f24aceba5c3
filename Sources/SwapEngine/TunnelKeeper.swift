import Foundation
import KubeClient
import Logging
import SSHTunnel
import SwapPlan

/// Keeps the tunnel up: when the SSH session dies (the port-forward dropped, the API server
/// restarted, an idle timeout), it opens a new port-forward and session and puts every forward
/// back on the same ports, so the local process and the pod notice no more than a reset
/// connection.
///
/// Forwards are registered as they are opened; the outbound proxy asks for ``current`` on each
/// connection, so it follows the new session by itself.
final class TunnelKeeper: @unchecked Sendable {
    struct Local: Sendable {
        var port: Int
        var remoteHost: String
        var remotePort: Int
    }

    private let lock = NSLock()
    private var session: SSHSession
    private var locals: [Local] = []
    private var remotes: [InboundForward] = []
    private var stopping = false
    private let connection: TunnelConnection
    private let client: KubeClient
    private let reporter: PhaseReporter
    private let logger: Logger

    init(session: SSHSession, connection: TunnelConnection, client: KubeClient, reporter: PhaseReporter, logger: Logger) {
        self.session = session
        self.connection = connection
        self.client = client
        self.reporter = reporter
        self.logger = logger
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The live session.
    var current: SSHSession { locked { session } }

    /// Opens a local forward and remembers it for reconnects.
    func forwardLocal(listenPort: Int, remoteHost: String, remotePort: Int) async throws -> Int {
        let forward = try await current.forwardLocal(listenPort: listenPort, remoteHost: remoteHost, remotePort: remotePort)
        locked { locals.append(Local(port: forward.port, remoteHost: remoteHost, remotePort: remotePort)) }
        return forward.port
    }

    /// Opens a remote forward and remembers it for reconnects.
    func forwardRemote(_ forward: InboundForward) async throws {
        try await Self.forwardRemote(forward, on: current)
        locked { remotes.append(forward) }
    }

    /// sshd refuses a port another of its sessions still listens on — after a reconnect, the
    /// dead session's child until sshd notices it is gone (a keepalive or two). So a refusal is
    /// retried for a few seconds before it counts.
    static func forwardRemote(_ forward: InboundForward, on session: SSHSession) async throws {
        var attempt = 0
        while true {
            do {
                _ = try await session.forwardRemote(bindHost: "0.0.0.0", port: forward.remotePort,
                                                    target: (host: "127.0.0.1", port: forward.localPort))
                return
            } catch SSHTunnelError.remoteForwardRefused(let host, let port) {
                attempt += 1
                guard attempt < 20 else { throw SSHTunnelError.remoteForwardRefused(bindHost: host, port: port) }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// From now on a dying session stays dead: teardown is about to delete the proxy, which
    /// ends the session on purpose.
    func stopReconnecting() {
        locked { stopping = true }
    }

    /// Stops reconnecting and closes the session.
    func close() async {
        locked { stopping = true }
        await current.close()
    }

    /// Watches the session until ``close()``; reconnects when it dies, a few times with backoff.
    func keep() async {
        while true {
            let watched = current
            do {
                try await watched.waitUntilClosed()
            } catch {
                if locked({ stopping }) { return }
                reporter.warning("the tunnel went down (\(error)); reconnecting")
                if await reconnect() { continue }
                reporter.warning("could not reconnect the tunnel; traffic to the proxy fails until swapdev exits and restores")
                return
            }
            return
        }
    }

    /// With the 1 s cap, ~40 s of outage (a laptop changing networks, a rescheduled node) before
    /// the swap is given up and restored; the dead-man switch covers longer ones.
    static let reconnectAttempts = 40

    private func reconnect() async -> Bool {
        var delay = Duration.milliseconds(250)
        for attempt in 1...Self.reconnectAttempts {
            if locked({ stopping }) { return false }
            do {
                // A restarted proxy container made a new host key: read the latest from its log.
                // Unreadable log: try the pinned key; a changed one fails the host-key check, not open.
                let log = (try? await client.logText(namespace: connection.namespace, pod: connection.pod,
                                                     container: connection.container)) ?? ""
                let fingerprint = ProxyStartup.fingerprint(in: log) ?? connection.fingerprint
                let fresh = TunnelConnection(client: client, namespace: connection.namespace, pod: connection.pod,
                                             container: connection.container, key: connection.key,
                                             fingerprint: fingerprint, users: connection.users, logger: logger)
                let (session, _) = try await fresh.connect()
                let (locals, remotes) = locked { (self.locals, self.remotes) }
                for local in locals {
                    _ = try await session.forwardLocal(listenPort: local.port, remoteHost: local.remoteHost, remotePort: local.remotePort)
                }
                for remote in remotes {
                    try await Self.forwardRemote(remote, on: session)
                }
                locked { self.session = session }
                reporter.line("✓ tunnel reconnected (attempt \(attempt))")
                return true
            } catch {
                logger.info("tunnel reconnect attempt \(attempt) failed: \(error)")
                try? await Task.sleep(for: delay)
                // Capped at 1 s: an API server back after a restart is found within a second.
                delay = min(delay * 2, .seconds(1))
            }
        }
        return false
    }
}
