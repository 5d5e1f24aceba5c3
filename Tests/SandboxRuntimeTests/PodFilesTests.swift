import Foundation
import Testing
@testable import SandboxRuntime

extension HostTests {
    @Suite struct PodFiles {
        @Test func podsHavePrivateVolumeViews() async throws {
            try await withFixture { fixture in
                func secretPod(_ name: String, secret: String) -> PodLaunchSpec {
                    let mounts = [
                        VolumeMountSpec(volumeName: "secret", mountPath: "/etc/swrt-secret-\(name)", readOnly: true),
                        VolumeMountSpec(volumeName: "scratch", mountPath: "/swrt-scratch", readOnly: false),
                        VolumeMountSpec(volumeName: "config", mountPath: "/etc/swrt-only-\(name).conf", subPath: "app.conf", readOnly: false),
                    ]
                    return fixture.pod(name, [
                        fixture.container("main", ["sleep", "60"], mounts: mounts),
                        fixture.container("side", ["sleep", "60"], mounts: [mounts[1]]),
                    ], volumes: [
                        VolumeSpec(name: "secret", source: .files(["token": Data(secret.utf8), "nested/key": Data("k".utf8)], mode: 0o400)),
                        VolumeSpec(name: "scratch", source: .emptyDir),
                        VolumeSpec(name: "config", source: .files(["app.conf": Data("conf-\(name)".utf8)], mode: 0o644)),
                    ])
                }
                let a = secretPod("a", secret: "secret-a")
                let b = secretPod("b", secret: "secret-b")
                _ = try await fixture.runtime.startPod(a)
                _ = try await fixture.runtime.startPod(b)
                try await fixture.waitReady(a.uid)
                try await fixture.waitReady(b.uid)

                #expect(try await fixture.exec(b.uid, "main", ["cat", "/etc/swrt-secret-b/token"]).stdout == "secret-b")
                #expect(try await fixture.exec(b.uid, "main", ["cat", "/etc/swrt-secret-b/nested/key"]).stdout == "k")
                #expect(try await fixture.exec(b.uid, "main", ["test", "-e", "/etc/swrt-secret-a/token"]).code != 0)
                #expect(try await fixture.exec(a.uid, "main", ["cat", "/etc/swrt-secret-a/token"]).stdout == "secret-a")
                #expect(try await fixture.exec(a.uid, "main", ["stat", "-c", "%a", "/etc/swrt-secret-a/token"]).stdout == "400\n")
                #expect(try await fixture.exec(a.uid, "main", ["touch", "/etc/swrt-secret-a/new"]).code != 0, "secret volumes are read-only")
                #expect(try await fixture.exec(a.uid, "main", ["cat", "/etc/swrt-only-a.conf"]).stdout == "conf-a")
                // The host sees only the (empty) mount point, not the pod's files.
                #expect(!FileManager.default.fileExists(atPath: "/etc/swrt-secret-a/token"))
                // The runtime's own state folder is hidden inside pods.
                #expect(try await fixture.exec(a.uid, "main", ["ls", "-A", fixture.stateDirectory.path]).stdout == "")
                // emptyDir is shared by the pod's containers and by nobody else.
                #expect(try await fixture.exec(a.uid, "main", ["sh", "-c", "echo shared > /swrt-scratch/f"]).code == 0)
                #expect(try await fixture.exec(a.uid, "side", ["cat", "/swrt-scratch/f"]).stdout == "shared\n")
                #expect(try await fixture.exec(b.uid, "side", ["test", "-e", "/swrt-scratch/f"]).code != 0)

                await fixture.runtime.stopPod(uid: a.uid, gracePeriod: .seconds(2))
                #expect(!FileManager.default.fileExists(atPath: "/etc/swrt-secret-a"), "mount points the runtime created are removed")
                #expect(!FileManager.default.fileExists(atPath: "/etc/swrt-only-a.conf"))
                #expect(FileManager.default.fileExists(atPath: "/swrt-scratch"), "still used by pod b")
                await fixture.runtime.stopPod(uid: b.uid, gracePeriod: .seconds(2))
                #expect(!FileManager.default.fileExists(atPath: "/swrt-scratch"))
            }
        }

        @Test func serviceNamesResolveInsidePodsAndFollowUpdates() async throws {
            try await withFixture { fixture in
                await fixture.runtime.updateServices([
                    ServiceRoute(namespace: "default", name: "web", clusterIP: "10.127.0.10", ports: []),
                ])
                let pod = fixture.pod("resolver", [fixture.container("main", ["sleep", "60"])])
                let ip = try await fixture.runtime.startPod(pod)
                try await fixture.waitReady(pod.uid)
                for name in ["web", "web.default", "web.default.svc", "web.default.svc.cluster.local"] {
                    let result = try await fixture.exec(pod.uid, "main", ["getent", "hosts", name])
                    #expect(result.stdout.hasPrefix("10.127.0.10 "), "\(name): \(result.stdout)")
                }
                #expect(try await fixture.exec(pod.uid, "main", ["getent", "hosts", "resolver"]).stdout.hasPrefix("\(ip) "))
                let resolv = try await fixture.exec(pod.uid, "main", ["cat", "/etc/resolv.conf"])
                #expect(resolv.stdout.contains("search default.svc.cluster.local svc.cluster.local cluster.local"))

                await fixture.runtime.updateServices([
                    ServiceRoute(namespace: "default", name: "web", clusterIP: "10.127.0.10", ports: []),
                    ServiceRoute(namespace: "other", name: "db", clusterIP: "10.127.0.11", ports: []),
                ])
                #expect(try await fixture.exec(pod.uid, "main", ["getent", "hosts", "db.other.svc.cluster.local"]).stdout.hasPrefix("10.127.0.11 "))
                #expect(try await fixture.exec(pod.uid, "main", ["getent", "hosts", "db"]).code != 0, "short names only for the pod's namespace")
            }
        }

        @Test func proxyImageRunsTheProxyEntrypoint() async throws {
            try await withFixture { fixture in
                try FileManager.default.createDirectory(at: fixture.proxyImageDirectory, withIntermediateDirectories: true)
                let script = fixture.proxyImageDirectory.appendingPathComponent("entrypoint.sh")
                try Data("#!/bin/sh\necho \"proxy key=$SWAPDEV_AUTHORIZED_KEY args=$*\"\nexec sleep 60\n".utf8).write(to: script)
                chmod(script.path, 0o755)
                let proxy = fixture.container("proxy", [], env: [(name: "SWAPDEV_AUTHORIZED_KEY", value: "ssh-ed25519 AAAA")],
                                              image: "ghcr.io/example/swapdev-proxy:0.1@sha256:abc")
                let unknown = fixture.container("unknown", [], image: "nginx:1.25")
                let pod = fixture.pod("proxy", [proxy, unknown])
                _ = try await fixture.runtime.startPod(pod)
                _ = try await fixture.waitForLog(pod.uid, "proxy", containing: "proxy key=ssh-ed25519 AAAA args=")
                try await fixture.waitFor(pod.uid, "unknown image reported") { status in
                    status.containers.contains { container in
                        if case .waiting("RunContainerError", let message?) = container.state { return message.contains("nginx:1.25") }
                        return false
                    }
                }
            }
        }
    }
}
