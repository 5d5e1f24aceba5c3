import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// `swapdev restore`: undoes whatever a swap left behind — by anyone, from any machine, at any
/// phase it died in — and says what it changed. Idempotent: a second run changes nothing.
///
/// A recorded swap is undone by ``SwapRestorer`` (original back and Ready, proxy gone,
/// annotations removed). Then every leftover of a swap that is no longer recorded on any
/// Deployment of the namespace is removed: proxy pods, the dead-man's ServiceAccount, token
/// Secret, Role and RoleBinding (all labelled `swapdev.dev/swap`), and KEDA ScaledObjects
/// swapdev paused. A swap whose record is on a Deployment is never touched by the leftovers
/// pass: the record is written before anything else exists, so that is a swap still in setup
/// or running.
public struct SwapRepair: Sendable {
    public let client: KubeClient
    public let timeout: Duration
    public let reporter: PhaseReporter

    public init(client: KubeClient, timeout: Duration, reporter: PhaseReporter) {
        self.client = client
        self.timeout = timeout
        self.reporter = reporter
    }

    /// Kinds that carry the `swapdev.dev/swap` label and are removed when their swap is gone.
    static let labelledKinds: [APIResource] = [.pods, .roleBindings, .roles, .serviceAccounts, .secrets]

    /// Restores `deployment` (if swapped) and removes the leftovers of its namespace.
    /// Returns one line per change; empty when there was nothing to do.
    public func restore(deployment: String, namespace: String) async throws -> [String] {
        var changes: [String] = []
        let current = try await client.get(.deployments, namespace: namespace, name: deployment)
        if current.annotations[SwapRecord.Key.id] != nil {
            changes += try await restoreRecorded(current, namespace: namespace)
        }
        changes += try await removeLeftovers(namespace: namespace)
        return changes
    }

    /// Restores every swapped Deployment in `namespace` (`""`: all namespaces) and removes leftovers.
    public func restoreAll(namespace: String) async throws -> [String] {
        var changes: [String] = []
        var namespaces: Set<String> = namespace.isEmpty ? [] : [namespace]
        for deployment in try await client.list(.deployments, namespace: namespace).items {
            guard deployment.annotations[SwapRecord.Key.id] != nil else { continue }
            changes += try await restoreRecorded(deployment, namespace: deployment.namespace ?? namespace)
        }
        if namespace.isEmpty {
            for kind in Self.labelledKinds {
                let items = (try? await client.list(kind, namespace: "", labelSelector: SwapRecord.swapLabel).items) ?? []
                for item in items { if let ns = item.namespace { namespaces.insert(ns) } }
            }
            for object in (try? await client.list(GuardKEDA.scaledObjects, namespace: "").items) ?? []
            where GuardKEDA.isPaused(object) {
                if let ns = object.namespace { namespaces.insert(ns) }
            }
        }
        for ns in namespaces.sorted() { changes += try await removeLeftovers(namespace: ns) }
        return changes
    }

    /// Undoes one recorded swap; a malformed record is repaired as far as it can be read.
    private func restoreRecorded(_ deployment: JSONValue, namespace: String) async throws -> [String] {
        let name = deployment.name ?? ""
        var changes: [String] = []
        let record: SwapRecord?
        do {
            record = try SwapRecord(deployment: deployment)
        } catch {
            // Unreadable record: without original-replicas there is nothing safe to scale to;
            // remove the annotations so the leftovers pass can clean up, and say so.
            _ = try await client.patch(.deployments, namespace: namespace, name: name, type: .merge,
                                       patch: SwapRecord.removalPatch(deployment: deployment))
            reporter.warning("\(error); removed the swap annotations of \(namespace)/\(name) — check its replicas by hand")
            return ["removed the malformed swap record of deployment \(namespace)/\(name)"]
        }
        guard let record else { return [] }
        let replicasBefore = deployment[path: ["spec", "replicas"]]?.int
        let restorer = SwapRestorer(client: client, namespace: namespace, deployment: name, timeout: timeout, reporter: reporter)
        let report = try await restorer.restore()
        if replicasBefore != report.replicas {
            changes.append("scaled deployment \(namespace)/\(name) from \(replicasBefore.map(String.init) ?? "?") back to \(report.replicas)")
        }
        changes.append("ended swap \(record.id) of \(namespace)/\(name) by \(record.owner): proxy pod removed, swap annotations removed")
        changes += try await unpauseScaledObjects(namespace: namespace, swapID: record.id)
        return changes
    }

    /// The swap ids still recorded on a Deployment of `namespace`.
    private func activeSwapIDs(namespace: String) async throws -> Set<String> {
        Set(try await client.list(.deployments, namespace: namespace).items.compactMap { $0.annotations[SwapRecord.Key.id] })
    }

    /// Removes every labelled object and pause of a swap no Deployment records any more; with
    /// `swapID`, only that swap's (what a swap's own teardown uses).
    public func removeLeftovers(namespace: String, swapID: String? = nil) async throws -> [String] {
        let active = try await activeSwapIDs(namespace: namespace)
        var changes: [String] = []
        let selector = swapID.map { "\(SwapRecord.swapLabel)=\($0)" } ?? SwapRecord.swapLabel
        for kind in Self.labelledKinds {
            let items = try await client.list(kind, namespace: namespace, labelSelector: selector).items
            for item in items {
                guard let id = item.labels[SwapRecord.swapLabel], !active.contains(id), let name = item.name,
                      item[path: ["metadata", "deletionTimestamp"]] == nil
                else { continue }
                do {
                    _ = try await client.delete(kind, namespace: namespace, name: name)
                    changes.append("deleted leftover \(kind.kind) \(namespace)/\(name) of swap \(id)")
                } catch KubeError.notFound {
                    // Gone already (garbage collector, dead-man switch): nothing to do.
                }
                if kind == .pods {
                    _ = try? await client.waitFor(.pods, namespace: namespace, name: name, timeout: timeout, condition: WaitConditions.deleted)
                }
            }
        }
        changes += try await removeOrphanTokens(namespace: namespace)
        changes += try await unpauseScaledObjects(namespace: namespace, swapID: swapID, except: active)
        return changes
    }

    /// Pauses KEDA ScaledObjects for swap `swapID` (see ``GuardKEDA``); returns what it paused.
    public func pauseScaledObjects(_ names: [String], namespace: String, swapID: String) async throws -> [String] {
        var paused: [String] = []
        for name in names {
            let object = try await client.get(GuardKEDA.scaledObjects, namespace: namespace, name: name)
            _ = try await client.patch(GuardKEDA.scaledObjects, namespace: namespace, name: name, type: .merge,
                                       patch: GuardKEDA.pausePatch(scaledObject: object, swapID: swapID))
            paused.append(name)
        }
        return paused
    }

    /// Token Secrets a cluster made itself for a dead-man ServiceAccount that no longer exists
    /// (they carry no swapdev label when swapdev died before labelling them).
    private func removeOrphanTokens(namespace: String) async throws -> [String] {
        let accounts = Set(try await client.list(.serviceAccounts, namespace: namespace).items.compactMap(\.name))
        var changes: [String] = []
        for secret in try await client.list(.secrets, namespace: namespace).items {
            guard secret["type"]?.string == "kubernetes.io/service-account-token",
                  let account = secret.annotations["kubernetes.io/service-account.name"],
                  account.hasPrefix("swapdev-deadman-"), !accounts.contains(account), let name = secret.name
            else { continue }
            _ = try? await client.delete(.secrets, namespace: namespace, name: name)
            changes.append("deleted leftover Secret \(namespace)/\(name) (token of dead-man \(account))")
        }
        return changes
    }

    /// Unpauses ScaledObjects paused by `swapID` (or, when `nil`, by any swap not in `except`). No KEDA: nothing.
    public func unpauseScaledObjects(namespace: String, swapID: String?, except: Set<String> = []) async throws -> [String] {
        guard let objects = try? await client.list(GuardKEDA.scaledObjects, namespace: namespace).items else { return [] }
        var changes: [String] = []
        for object in objects {
            guard let by = object.annotations[GuardKEDA.pausedBy], swapID.map({ $0 == by }) ?? !except.contains(by),
                  let patch = GuardKEDA.unpausePatch(scaledObject: object), let name = object.name
            else { continue }
            _ = try await client.patch(GuardKEDA.scaledObjects, namespace: namespace, name: name, type: .merge, patch: patch)
            changes.append("unpaused KEDA ScaledObject \(namespace)/\(name) (paused by swap \(by))")
        }
        return changes
    }
}
