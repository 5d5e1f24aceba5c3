import Foundation
import Testing
@testable import SandboxRuntime

extension HostTests {
    @Suite struct Services {
        @Test func clusterIPForwardsToReadyEndpointsFromHostAndPods() async throws {
            try await withFixture { fixture in
                func server(_ name: String, _ body: String) -> PodLaunchSpec {
                    fixture.pod(name, [fixture.container("web", ["sh", "-c", "mkdir -p /swrt-www && echo \(body) > /swrt-www/id && exec python3 -m http.server 8080 --directory /swrt-www"],
                                                         mounts: [VolumeMountSpec(volumeName: "www", mountPath: "/swrt-www", readOnly: false)],
                                                         readiness: .fast(.tcpSocket(port: 8080)))],
                                volumes: [VolumeSpec(name: "www", source: .emptyDir)])
                }
                let one = server("one", "first")
                let two = server("two", "second")
                let ipOne = try await fixture.runtime.startPod(one)
                let ipTwo = try await fixture.runtime.startPod(two)
                let client = fixture.pod("client", [fixture.container("main", ["sleep", "60"])])
                _ = try await fixture.runtime.startPod(client)
                try await fixture.waitReady(one.uid)
                try await fixture.waitReady(two.uid)
                try await fixture.waitReady(client.uid)

                await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "web", clusterIP: "10.127.0.20", ports: [
                    .init(port: 80, endpoints: [.init(ip: ipOne, port: 8080)]),
                ])])
                #expect(await host(["curl", "-sf", "-m", "5", "http://10.127.0.20/id"]).output == "first\n")
                #expect(try await fixture.exec(client.uid, "main", ["curl", "-sf", "-m", "5", "http://web/id"]).stdout == "first\n")

                // An endpoint on the host's loopback (how the `kubernetes` Service reaches the API server).
                let hostRoot = fixture.proxyImageDirectory.appendingPathComponent("host-www")
                try FileManager.default.createDirectory(at: hostRoot, withIntermediateDirectories: true)
                try Data("host\n".utf8).write(to: hostRoot.appendingPathComponent("id"))
                let hostServer = Process()
                hostServer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                hostServer.arguments = ["-m", "http.server", "18931", "--bind", "127.0.0.1", "--directory", hostRoot.path]
                hostServer.standardOutput = FileHandle.nullDevice
                hostServer.standardError = FileHandle.nullDevice
                try hostServer.run()
                defer {
                    // SIGKILL: a child of the test process may inherit a blocked SIGTERM.
                    kill(hostServer.processIdentifier, SIGKILL)
                    hostServer.waitUntilExit()
                }
                await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "api", clusterIP: "10.127.0.21", ports: [
                    .init(port: 443, endpoints: [.init(ip: "127.0.0.1", port: 18931)]),
                ])])
                let fromPod = try await fixture.exec(client.uid, "main", ["sh", "-c",
                    "for i in $(seq 50); do curl -sf -m 2 http://api:443/id && exit 0; sleep 0.1; done; exit 1"])
                #expect(fromPod.stdout == "host\n")

                // Both endpoints: round-robin reaches each.
                await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "web", clusterIP: "10.127.0.20", ports: [
                    .init(port: 80, endpoints: [.init(ip: ipOne, port: 8080), .init(ip: ipTwo, port: 8080)]),
                ])])
                var seen: Set<String> = []
                for _ in 0..<4 { seen.insert(await host(["curl", "-sf", "-m", "5", "http://10.127.0.20/id"]).output) }
                #expect(seen == ["first\n", "second\n"])

                // No ready endpoint: the connection is refused/closed.
                await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "web", clusterIP: "10.127.0.20", ports: [
                    .init(port: 80, endpoints: []),
                ])])
                #expect(await host(["curl", "-sf", "-m", "5", "http://10.127.0.20/id"]).code != 0)

                // Removed service: the address is gone from the host.
                await fixture.runtime.updateServices([])
                #expect(await host(["curl", "-sf", "-m", "2", "http://10.127.0.20/id"]).code != 0)
            }
        }

        @Test func halfCloseIsForwarded() async throws {
            try await withFixture { fixture in
                // A server that answers only after the client's EOF.
                let echo = fixture.container("echo", ["python3", "-c", """
                    import socket
                    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 7000)); s.listen()
                    while True:
                        c, _ = s.accept(); data = b""
                        while True:
                            chunk = c.recv(4096)
                            if not chunk: break
                            data += chunk
                        c.sendall(b"got:" + data); c.close()
                    """], readiness: .fast(.tcpSocket(port: 7000)))
                let pod = fixture.pod("echo", [echo])
                let ip = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                await fixture.runtime.updateServices([ServiceRoute(namespace: "default", name: "echo", clusterIP: "10.127.0.30", ports: [
                    .init(port: 7000, endpoints: [.init(ip: ip, port: 7000)]),
                ])])
                let reply = await onDedicatedThread("half-close") { () -> String in
                    guard case .success(let fd) = TCPConnect.connect(host: "10.127.0.30", port: 7000, timeout: .seconds(2)) else { return "connect failed" }
                    defer { close(fd) }
                    var limit = timeval(tv_sec: 5, tv_usec: 0)
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                    let payload = Array("ping".utf8)
                    _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    shutdown(fd, Int32(SHUT_WR))
                    return String(decoding: HostProcess.readAll(fd), as: UTF8.self)
                }
                #expect(reply == "got:ping")
            }
        }
    }
}
