import Foundation
import Testing
@testable import SandboxRuntime
import SwapdevTesting

extension HostTests {
    @Suite struct Cleanup {
        @Test func stopPodLeavesNothingBehind() async throws {
            try await withFixture { fixture in
                // Warm the host up (bridge) so only the pod's own objects are compared.
                await fixture.runtime.updateServices([])
                let before = HostSnapshot.capture(processMarker: fixture.marker)
                let pod = fixture.pod("stopme", [
                    // A daemon that leaves the container's process group must still go.
                    fixture.container("main", ["sh", "-c", "setsid sleep 300 & exec sleep 300"],
                                      mounts: [VolumeMountSpec(volumeName: "v", mountPath: "/swrt-stop/deep/dir", readOnly: false)]),
                    fixture.container("stubborn", ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]),
                ], volumes: [VolumeSpec(name: "v", source: .emptyDir)])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                try await Task.sleep(for: .milliseconds(200))
                #expect(!HostSnapshot.capture(processMarker: fixture.marker).leftovers(since: before).processes.isEmpty)
                let stopping = ContinuousClock.now
                await fixture.runtime.stopPod(uid: pod.uid, gracePeriod: .milliseconds(500))
                #expect(ContinuousClock.now - stopping < .seconds(5))
                let leftovers = HostSnapshot.capture(processMarker: fixture.marker).leftovers(since: before).matching(fixture.ownNames)
                #expect(leftovers.isEmpty, "\(leftovers)")
                #expect(!FileManager.default.fileExists(atPath: "/swrt-stop"))
                let podFolders = try FileManager.default.contentsOfDirectory(atPath: fixture.stateDirectory.appendingPathComponent("pods").path)
                #expect(podFolders.isEmpty)
                if case .terminated? = fixture.statuses.latest(pod.uid)?.containers.first?.state {} else {
                    Issue.record("final status not terminated: \(String(describing: fixture.statuses.latest(pod.uid)))")
                }
            }
        }

        @Test func shutdownRestoresTheHost() async throws {
            try #require(geteuid() == 0, "needs root: run the SandboxRuntime tests with sudo")
            let before = HostSnapshot.capture()
            let secretsExisted = FileManager.default.fileExists(atPath: "/var/run/secrets")
            let fixture = try RuntimeFixture()
            let beforeProcesses = HostSnapshot.capture(processMarker: fixture.marker)
            await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "svc", clusterIP: "10.127.0.40", ports: [
                .init(port: 80, endpoints: []),
            ])])
            for name in ["one", "two"] {
                let pod = fixture.pod(name, [fixture.container("main", ["python3", "-m", "http.server", "8080"],
                                                               mounts: [VolumeMountSpec(volumeName: "s", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true)])],
                                      volumes: [VolumeSpec(name: "s", source: .files(["token": Data("t".utf8)], mode: 0o644))])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
            }
            #expect(!HostSnapshot.capture().leftovers(since: before).matching(fixture.ownNames).isEmpty)
            await fixture.shutdown()
            var leftovers = HostSnapshot.capture().leftovers(since: before).matching(fixture.ownNames)
            leftovers.processes = HostSnapshot.capture(processMarker: fixture.marker).leftovers(since: beforeProcesses).processes
            #expect(leftovers.isEmpty, "\(leftovers)")
            #expect(!FileManager.default.fileExists(atPath: fixture.stateDirectory.path))
            #expect(FileManager.default.fileExists(atPath: "/var/run/secrets") == secretsExisted, "created mount points are removed")
        }
    }
}
