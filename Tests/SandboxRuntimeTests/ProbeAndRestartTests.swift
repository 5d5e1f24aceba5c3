import Foundation
import Testing
@testable import SandboxRuntime

extension HostTests {
    @Suite struct ProbesAndRestarts {
        @Test func readinessProbesOfEveryKindFlipReady() async throws {
            try await withFixture { fixture in
                let data = VolumeMountSpec(volumeName: "data", mountPath: "/swrt-data", readOnly: false)
                let tcp = fixture.container("tcp", ["sh", "-c", "while [ ! -f /swrt-data/listen ]; do sleep 0.05; done; exec python3 -m http.server 8081"],
                                            mounts: [data], readiness: .fast(.tcpSocket(port: 8081)))
                let http = fixture.container("http", ["python3", "-m", "http.server", "8082", "--directory", "/swrt-data"],
                                             mounts: [data], readiness: .fast(.httpGet(port: 8082, path: "/ok?probe=1", scheme: "HTTP")))
                let exec = fixture.container("exec", ["sleep", "60"], mounts: [data],
                                             readiness: .fast(.exec(command: ["test", "-f", "/swrt-data/exec-ready"])))
                let pod = fixture.pod("probes", [tcp, http, exec], volumes: [VolumeSpec(name: "data", source: .emptyDir)])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitFor(pod.uid, "all running") { $0.containers.allSatisfy { if case .running = $0.state { true } else { false } } }
                try await Task.sleep(for: .milliseconds(500))
                #expect(fixture.statuses.latest(pod.uid)?.containers.allSatisfy { !$0.ready } == true, "nothing is ready before its probe passes")

                func readiness(_ name: String) -> @Sendable (PodRuntimeStatus) -> Bool {
                    { status in status.containers.first { $0.name == name }?.ready == true }
                }
                _ = try await fixture.exec(pod.uid, "exec", ["touch", "/swrt-data/listen"])
                try await fixture.waitFor(pod.uid, "tcp ready", readiness("tcp"))
                _ = try await fixture.exec(pod.uid, "exec", ["touch", "/swrt-data/ok"])
                try await fixture.waitFor(pod.uid, "http ready", readiness("http"))
                _ = try await fixture.exec(pod.uid, "exec", ["touch", "/swrt-data/exec-ready"])
                try await fixture.waitFor(pod.uid, "exec ready", readiness("exec"))
                _ = try await fixture.exec(pod.uid, "exec", ["rm", "/swrt-data/exec-ready", "/swrt-data/ok"])
                try await fixture.waitFor(pod.uid, "http and exec unready again") { status in
                    status.containers.filter { $0.name != "tcp" }.allSatisfy { !$0.ready }
                }
            }
        }

        @Test func startupProbeGatesStartedAndReady() async throws {
            try await withFixture { fixture in
                let data = VolumeMountSpec(volumeName: "data", mountPath: "/swrt-startup", readOnly: false)
                let container = fixture.container("app", ["sleep", "60"], mounts: [data],
                                                  startup: .fast(.exec(command: ["test", "-f", "/swrt-startup/up"]), failureThreshold: 100))
                let pod = fixture.pod("startup", [container], volumes: [VolumeSpec(name: "data", source: .emptyDir)])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitFor(pod.uid, "running") { if case .running = $0.containers.first?.state { true } else { false } }
                try await Task.sleep(for: .milliseconds(400))
                let before = try #require(fixture.statuses.latest(pod.uid)?.containers.first)
                #expect(!before.started && !before.ready)
                _ = try await fixture.exec(pod.uid, "app", ["touch", "/swrt-startup/up"])
                try await fixture.waitFor(pod.uid, "started and ready") { ($0.containers.first?.started ?? false) && ($0.containers.first?.ready ?? false) }
            }
        }

        @Test func failingLivenessProbeRestartsTheContainer() async throws {
            try await withFixture { fixture in
                let data = VolumeMountSpec(volumeName: "data", mountPath: "/swrt-live", readOnly: false)
                let container = fixture.container("app", ["sh", "-c", "touch /swrt-live/alive; exec sleep 60"], mounts: [data],
                                                  liveness: .fast(.exec(command: ["test", "-f", "/swrt-live/alive"]), failureThreshold: 2))
                let pod = fixture.pod("live", [container], volumes: [VolumeSpec(name: "data", source: .emptyDir)])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                try await Task.sleep(for: .milliseconds(600))
                #expect(fixture.statuses.latest(pod.uid)?.containers.first?.restartCount == 0, "a passing liveness probe leaves it alone")
                _ = try await fixture.exec(pod.uid, "app", ["rm", "/swrt-live/alive"])
                let status = try await fixture.waitFor(pod.uid, "restarted and running") { status in
                    guard let container = status.containers.first, container.restartCount == 1 else { return false }
                    if case .running = container.state { return true }
                    return false
                }
                if case .terminated(let code, _, _, _)? = status.containers.first?.lastTermination {
                    #expect(code == 137)
                } else {
                    Issue.record("no last termination recorded: \(status)")
                }
            }
        }

        @Test func crashingContainerRestartsWithBackoffAndKeepsLogs() async throws {
            try await withFixture(restartBackoff: .milliseconds(400)) { fixture in
                let data = VolumeMountSpec(volumeName: "data", mountPath: "/swrt-crash", readOnly: false)
                let container = fixture.container("app", ["sh", "-c",
                    "n=$(cat /swrt-crash/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /swrt-crash/n; echo run $n; exit 3"], mounts: [data])
                let pod = fixture.pod("crash", [container], volumes: [VolumeSpec(name: "data", source: .emptyDir)])
                let started = ContinuousClock.now
                _ = try await fixture.runtime.startPod(pod)
                let status = try await fixture.waitFor(pod.uid, "two restarts") { ($0.containers.first?.restartCount ?? 0) >= 2 }
                // Back-off 0.4 s then 0.8 s: two restarts cannot happen sooner than 1.2 s.
                #expect(ContinuousClock.now - started >= .milliseconds(1100))
                #expect(fixture.statuses.reasonsSeen(pod.uid).contains("CrashLoopBackOff"))
                if case .terminated(let code, let reason, _, _)? = status.containers.first?.lastTermination {
                    #expect(code == 3)
                    #expect(reason == "Error")
                } else {
                    Issue.record("no last termination: \(status)")
                }
                let current = try await fixture.waitForLog(pod.uid, "app", containing: "run ")
                let previous = try await fixture.logs(pod.uid, "app", previous: true)
                let currentRun = Int(current.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(4)) ?? -1
                let previousRun = Int(previous.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(4)) ?? -1
                #expect(currentRun >= 3 && previousRun == currentRun - 1, "current: \(current) previous: \(previous)")
            }
        }

        @Test func followedLogsStreamUntilTheInstanceEnds() async throws {
            try await withFixture(restartBackoff: .seconds(5)) { fixture in
                let container = fixture.container("app", ["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done"])
                let pod = fixture.pod("follow", [container])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitFor(pod.uid, "running") { if case .running = $0.containers.first?.state { true } else { false } }
                var bytes: [UInt8] = []
                for await chunk in try await fixture.runtime.logs(podUID: pod.uid, container: "app", follow: true, previous: false, tailLines: nil) {
                    bytes += chunk
                }
                #expect(String(decoding: bytes, as: UTF8.self) == "line 1\nline 2\nline 3\n")
                var tail: [UInt8] = []
                for await chunk in try await fixture.runtime.logs(podUID: pod.uid, container: "app", follow: false, previous: false, tailLines: 1) {
                    tail += chunk
                }
                #expect(String(decoding: tail, as: UTF8.self) == "line 3\n")
            }
        }
    }
}
