import Foundation
import KubeModel
import SwapPlan
import Testing
@testable import DevLoop

/// How pod statuses are read: when a start has failed (and whether `sh` is the reason), when a
/// pod is gone for good, and when its container restarted in place.
@Suite struct DevPodStateTests {
    static func pod(phase: String, container: JSONValue? = nil, extra: [String: JSONValue] = [:], deleting: Bool = false) -> JSONValue {
        var status: JSONValue = ["phase": .string(phase)]
        if let container { status["containerStatuses"] = [container] }
        for (key, value) in extra { status[key] = value }
        var metadata: JSONValue = ["name": "web-dev-abcdef"]
        if deleting { metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z" }
        return ["metadata": metadata, "status": status]
    }

    static func container(state: JSONValue, restarts: Int = 0, last: JSONValue? = nil) -> JSONValue {
        var status: JSONValue = ["name": "web", "state": state, "restartCount": .int(Int64(restarts))]
        if let last { status["lastState"] = ["terminated": last] }
        return status
    }

    static let running: JSONValue = ["running": ["startedAt": "2026-01-01T00:00:00Z"]]

    @Test func runningPodIsUsable() {
        let pod = Self.pod(phase: "Running", container: Self.container(state: Self.running))
        #expect(DevPodState.of(pod, container: "web") == .running(restartCount: 0))
    }

    @Test func pendingPodIsStillStarting() {
        let pod = Self.pod(phase: "Pending", container: Self.container(state: ["waiting": ["reason": "ContainerCreating"]]))
        guard case .starting = DevPodState.of(pod, container: "web") else {
            Issue.record("\(DevPodState.of(pod, container: "web"))")
            return
        }
    }

    /// containerd's words for an image without sh.
    @Test func runtimeThatFindsNoShellNamesIt() {
        let message = #"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown"#
        let pod = Self.pod(phase: "Pending", container: Self.container(state: ["waiting": ["reason": "RunContainerError", "message": .string(message)]]))
        guard case .failedToStart(let detail, let missingShell) = DevPodState.of(pod, container: "web") else {
            Issue.record("\(DevPodState.of(pod, container: "web"))")
            return
        }
        #expect(missingShell)
        #expect(detail.hasPrefix("RunContainerError: failed to create"))
    }

    /// The sandbox (and `env`/`nsenter` style launchers): sh -c … exits 127 and the container crash-loops.
    @Test func exitCode127OfTheSupervisorMeansNoShell() {
        let pod = Self.pod(phase: "Running", container: Self.container(
            state: ["waiting": ["reason": "CrashLoopBackOff", "message": "back-off 1s restarting failed container"]], restarts: 1,
            last: ["exitCode": 127, "reason": "Error"]))
        #expect(DevPodState.of(pod, container: "web") == .failedToStart(
            detail: "CrashLoopBackOff, exit code 127: back-off 1s restarting failed container", missingShell: true))
    }

    /// Flapping: seen running again after a crash of the supervisor before the session used it.
    @Test func restartBeforeUseIsAFailedStart() {
        let pod = Self.pod(phase: "Running", container: Self.container(state: Self.running, restarts: 1, last: ["exitCode": 127]))
        #expect(DevPodState.of(pod, container: "web") == .failedToStart(detail: "Restarted, exit code 127", missingShell: true))
        #expect(DevPodState.of(pod, container: "web", restartBaseline: 1) == .running(restartCount: 1))
    }

    @Test func imagePullFailureIsNotBlamedOnSh() {
        let pod = Self.pod(phase: "Pending", container: Self.container(state: ["waiting": ["reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope\""]]))
        #expect(DevPodState.of(pod, container: "web") == .failedToStart(detail: "ImagePullBackOff: Back-off pulling image \"nope\"", missingShell: false))
    }

    @Test func missingShellWording() {
        #expect(DevPodState.mentionsMissingShell(#"exec: "sh": executable file not found in $PATH"#))
        #expect(DevPodState.mentionsMissingShell("nsenter: failed to execute sh: No such file or directory"))
        #expect(!DevPodState.mentionsMissingShell("sh: 1: find: not found"), "sh ran; another tool is missing")
        #expect(!DevPodState.mentionsMissingShell("connection refused"))
    }

    @Test func deletedEvictedAndEndedPodsAreGone() {
        #expect(DevPodState.change(of: nil, container: "web", restartBaseline: 0) == .gone("was deleted"))
        let deleting = Self.pod(phase: "Running", container: Self.container(state: Self.running), deleting: true)
        #expect(DevPodState.change(of: deleting, container: "web", restartBaseline: 0) == .gone("is being deleted"))
        let evicted = Self.pod(phase: "Failed", extra: ["reason": "Evicted", "message": "The node was low on resource: ephemeral-storage."])
        #expect(DevPodState.change(of: evicted, container: "web", restartBaseline: 0)
                == .gone("ended with phase Failed (Evicted: The node was low on resource: ephemeral-storage.)"))
        let serving = Self.pod(phase: "Running", container: Self.container(state: Self.running))
        #expect(DevPodState.change(of: serving, container: "web", restartBaseline: 0) == nil)
    }

    @Test func containerRestartInPlaceIsNoticed() {
        let restarted = Self.pod(phase: "Running", container: Self.container(state: Self.running, restarts: 2, last: ["exitCode": 137]))
        #expect(DevPodState.change(of: restarted, container: "web", restartBaseline: 1) == .containerRestarted(restartCount: 2))
        #expect(DevPodState.change(of: restarted, container: "web", restartBaseline: 2) == nil)
    }

    @Test func replacementsGetTheirOwnNameAndStateDirectory() throws {
        let first = DevPodBuilder(deployment: DevPodBuilderTests.deployment, container: "web", record: DevPodBuilderTests.record,
                                  options: DevOptions(target: SwapTarget(deployment: "web")))
        let second = first.nextGeneration()
        #expect(first.podName == "web-dev-abcdef" && second.podName == "web-dev-abcdef-2")
        #expect(first.stateDirectory == "/tmp/swapdev-abcdef123456" && second.stateDirectory == "/tmp/swapdev-abcdef123456-2")
        let pod = try second.build()
        #expect(pod.name == "web-dev-abcdef-2")
        #expect(pod.labels[SwapRecord.swapLabel] == "abcdef123456", "cleanup finds replacements by label")
        let env = pod[path: ["spec", "containers"]]?.array?.first?["env"]?.array ?? []
        #expect(env.contains { $0["name"]?.string == "SWAPDEV_STATE" && $0["value"]?.string == "/tmp/swapdev-abcdef123456-2" })
        let long = DevPodBuilder.podName(deployment: String(repeating: "a", count: 70), record: DevPodBuilderTests.record, generation: 12)
        #expect(long.count <= 63 && long.hasSuffix("-dev-abcdef-12"))
    }

    @Test func errorsAreOneLineWithARemedy() {
        let errors: [DevError] = [
            .noShell(pod: "p", container: "c", detail: "exit code 127"), .noTar(pod: "p", container: "c"),
            .remoteNotWritable(pod: "p", container: "c", path: "/app"), .syncFailed(pod: "p", path: "/app", detail: "tar exited 2: No space left on device"),
            .devPodKeepsDisappearing(deployment: "web", replacements: 5, lastReason: "web-dev-x-6 was deleted"),
        ]
        for error in errors {
            #expect(!"\(error)".contains("\n"))
            #expect("\(error)".contains(":"), "says what to do after the colon: \(error)")
        }
        #expect("\(DevError.noShell(pod: "p", container: "c", detail: "x"))".contains("has no sh"))
        #expect("\(DevError.noTar(pod: "p", container: "c"))".contains("--image with an image that has both, or `swapdev swap`"))
        #expect("\(DevError.syncFailed(pod: "p", path: "/app", detail: "d"))".contains("local files are untouched"))
    }

    @Test func summaryFormats() {
        let initial = SyncSummary(uploadedFiles: 50_000, uploadedBytes: 3 * 1_048_576, deletedPaths: 0, saveToSynced: .milliseconds(12_345),
                                  saveToRestarted: nil, initial: true)
        #expect(initial.description == "initial sync: 50000 files (3.0 MB) in 12.3 s")
        let noRestart = SyncSummary(uploadedFiles: 1, uploadedBytes: 6, deletedPaths: 0, saveToSynced: .milliseconds(84), saveToRestarted: nil)
        #expect(noRestart.description == "sync: 1 file (6 B) — save → synced 84 ms")
        #expect(SyncLine("swapdev: " + noRestart.description)?.restartedMs == nil)
        let full = SyncSummary(uploadedFiles: 2, uploadedBytes: 2048, deletedPaths: 1, saveToSynced: .milliseconds(84), saveToRestarted: .milliseconds(130))
        let parsed = SyncLine("swapdev: " + full.description)
        #expect(parsed?.files == 2 && parsed?.bytes == "2.0 KB" && parsed?.syncedMs == 84 && parsed?.restartedMs == 130)
    }
}
