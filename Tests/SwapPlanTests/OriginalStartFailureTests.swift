import KubeModel
import Testing
@testable import SwapPlan

@Suite("Whether a restore should keep waiting for the original's pods")
struct OriginalStartFailureTests {
    static func pod(_ name: String, labels: [String: String] = ["app": "web"], waiting reason: String?,
                    message: String = "", deleting: Bool = false, initContainer: Bool = false) -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "labels": JSONValue(stringMap: labels)], "status": ["phase": "Pending"]]
        if deleting { pod[path: ["metadata", "deletionTimestamp"]] = "2026-12-06T00:00:00Z" }
        let state: JSONValue = reason.map { ["waiting": ["reason": .string($0), "message": .string(message)]] } ?? ["running": [:]]
        let status: JSONValue = ["name": "app", "state": state]
        pod[path: ["status", initContainer ? "initContainerStatuses" : "containerStatuses"]] = [status]
        return pod
    }

    @Test(arguments: ["ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError", "InvalidImageName"])
    func aPodThatCannotStartWithoutAChangeIsStuck(reason: String) {
        let pods = [Self.pod("web-1", waiting: nil), Self.pod("web-2", waiting: reason, message: "Back-off\n  pulling image")]
        #expect(OriginalStartFailure.first(in: pods) == OriginalStartFailure(pod: "web-2", container: "app", reason: reason, message: "Back-off pulling image"))
        let text = OriginalStartFailure.first(in: pods)?.description ?? ""
        #expect(text.contains("pod web-2, container app: \(reason) (Back-off pulling image)"))
        #expect(text.contains("kubectl describe pod web-2"))
        #expect(!text.contains("\n"))
    }

    @Test(arguments: ["ContainerCreating", "PodInitializing", nil])
    func podsThatAreStartingMayBecomeReady(reason: String?) {
        #expect(OriginalStartFailure.first(in: [Self.pod("web-1", waiting: reason)]) == nil)
        #expect(OriginalStartFailure.first(in: []) == nil)
    }

    @Test func anInitContainerThatCannotStartCounts() {
        let pods = [Self.pod("web-1", waiting: "CrashLoopBackOff", initContainer: true)]
        #expect(OriginalStartFailure.first(in: pods) == OriginalStartFailure(pod: "web-1", container: "app", reason: "CrashLoopBackOff", message: ""))
    }

    /// The swap's own proxy carries the template's labels (Services select it) and the swap
    /// label; a pod on its way out is not the original either.
    @Test func theProxyAndPodsBeingDeletedAreNotTheOriginal() {
        let proxy = Self.pod("web-swapdev-abc123", labels: ["app": "web", SwapRecord.swapLabel: "abc123"], waiting: "ImagePullBackOff")
        let leaving = Self.pod("web-old", waiting: "CrashLoopBackOff", deleting: true)
        #expect(OriginalStartFailure.first(in: [proxy, leaving, Self.pod("web-1", waiting: "ContainerCreating")]) == nil)
    }
}
