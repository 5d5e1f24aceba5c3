import Foundation
import Testing
@testable import SandboxRuntime

extension HostTests {
    @Suite struct PodProcesses {
        @Test func containerGetsExactlyTheGivenEnvironmentAndWorkingDirectory() async throws {
            try await withFixture { fixture in
                let container = fixture.container(
                    "app", ["/usr/bin/env"], env: [(name: "GREETING", value: "hello world"), (name: "EMPTY", value: "")])
                let pod = fixture.pod("env", [container])
                _ = try await fixture.runtime.startPod(pod)
                let log = try await fixture.waitForLog(pod.uid, "app", containing: "GREETING=")
                let lines = Set(log.split(separator: "\n").map(String.init))
                let expected = Set(container.environment.map { "\($0.name)=\($0.value)" })
                #expect(lines == expected)

                let sleeper = fixture.container("main", ["sleep", "60"], workingDirectory: "/usr/share")
                let second = fixture.pod("wd", [sleeper])
                _ = try await fixture.runtime.startPod(second)
                try await fixture.waitReady(second.uid)
                let pwd = try await fixture.exec(second.uid, "main", ["pwd"])
                #expect(pwd.stdout == "/usr/share\n")
                let env = try await fixture.exec(second.uid, "main", ["/usr/bin/env"])
                #expect(Set(env.stdout.split(separator: "\n").map(String.init)) == Set(sleeper.environment.map { "\($0.name)=\($0.value)" }))
            }
        }

        @Test func aOneContainerPodTurnsReadyQuickly() async throws {
            try await withFixture { fixture in
                // Warm up the host (bridge) first: that is a once-per-sandbox cost.
                await fixture.runtime.updateServices([])
                let pod = fixture.pod("quick", [fixture.container("main", ["sleep", "60"])])
                let started = ContinuousClock.now
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                let elapsed = ContinuousClock.now - started
                // Timing belongs in scripts/bench.sh; this only catches a hang and shows the number.
                print("one-container pod ready after \(elapsed)")
                #expect(elapsed < .seconds(10))
            }
        }

        @Test func containersOfAPodTalkOverLocalhost() async throws {
            try await withFixture { fixture in
                let server = fixture.container("server", ["python3", "-m", "http.server", "8080", "--bind", "127.0.0.1"])
                let client = fixture.container("client", ["sh", "-c",
                    "until curl -sf -o /dev/null http://127.0.0.1:8080/; do sleep 0.1; done; echo reached; exec sleep 60"])
                let pod = fixture.pod("sidecars", [server, client])
                _ = try await fixture.runtime.startPod(pod)
                _ = try await fixture.waitForLog(pod.uid, "client", containing: "reached")
            }
        }

        @Test func podIPIsReachableFromHostAndOtherPods() async throws {
            try await withFixture { fixture in
                let server = fixture.container("web", ["python3", "-m", "http.server", "8080"],
                                               readiness: .fast(.tcpSocket(port: 8080)))
                let a = fixture.pod("a", [server])
                let ipA = try await fixture.runtime.startPod(a)
                #expect(ipA.hasPrefix("10.247."))
                let b = fixture.pod("b", [fixture.container("main", ["sleep", "60"])])
                let ipB = try await fixture.runtime.startPod(b)
                #expect(ipA != ipB)
                try await fixture.waitReady(a.uid)
                try await fixture.waitReady(b.uid)
                let fromHost = await host(["curl", "-sf", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://\(ipA):8080/"])
                #expect(fromHost.output == "200")
                let fromPod = try await fixture.exec(b.uid, "main", ["curl", "-sf", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://\(ipA):8080/"])
                #expect(fromPod.stdout == "200")
                // No default route inside a pod: nothing can leave the machine.
                let routes = try await fixture.exec(b.uid, "main", ["ip", "-4", "route"])
                #expect(!routes.stdout.contains("default"))
                #expect(routes.stdout.contains("10.127.0.0/16 via 10.247.0.1"))
                let hostname = try await fixture.exec(b.uid, "main", ["hostname"])
                #expect(hostname.stdout == "b\n")
            }
        }

        @Test func execReportsExitCodesAndTakesStdin() async throws {
            try await withFixture { fixture in
                let pod = fixture.pod("exec", [fixture.container("main", ["sleep", "60"])])
                _ = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                let failing = try await fixture.exec(pod.uid, "main", ["sh", "-c", "echo out; echo err >&2; exit 7"])
                #expect(failing.code == 7)
                #expect(failing.stdout == "out\n")
                #expect(failing.stderr == "err\n")
                let echoed = try await fixture.exec(pod.uid, "main", ["cat"], stdin: Array("hello\nworld".utf8))
                #expect(echoed.code == 0)
                #expect(echoed.stdout == "hello\nworld")
                // Nothing of the sandbox process leaks into a container (listeners, pipes): `ls`
                // sees only stdin, stdout, stderr and the directory it is reading.
                let fds = try await fixture.exec(pod.uid, "main", ["sh", "-c", "exec ls /proc/self/fd"])
                #expect(fds.stdout.split(separator: "\n") == ["0", "1", "2", "3"])
                let terminal = try await fixture.exec(pod.uid, "main", ["sh", "-c", "test -t 0 && tty"], tty: true)
                #expect(terminal.code == 0)
                #expect(terminal.stdout.contains("/dev/pts/"))
                await #expect(throws: PodRuntimeError.self) {
                    _ = try await fixture.runtime.exec(podUID: pod.uid, container: "nope", argv: ["true"], tty: false, stdin: false)
                }
            }
        }

        @Test func connectReachesLocalhostOnlyListenerInsideThePod() async throws {
            try await withFixture { fixture in
                let server = fixture.container("web", ["python3", "-m", "http.server", "9090", "--bind", "127.0.0.1"],
                                               readiness: .fast(.exec(command: ["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:9090/"])))
                let pod = fixture.pod("local", [server])
                let ip = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                let fromHost = await host(["curl", "-sf", "-m", "2", "http://\(ip):9090/"])
                #expect(fromHost.code != 0, "a listener on the pod's localhost must not be reachable on the pod IP")
                let fd = try await fixture.runtime.connect(podUID: pod.uid, port: 9090)
                defer { close(fd) }
                let response = await onDedicatedThread("test-http") { () -> String in
                    let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
                    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    return String(decoding: HostProcess.readAll(fd), as: UTF8.self)
                }
                #expect(response.hasPrefix("HTTP/1.0 200"))
                await #expect(throws: PodRuntimeError.self) {
                    _ = try await fixture.runtime.connect(podUID: pod.uid, port: 9099)
                }
            }
        }
    }
}
