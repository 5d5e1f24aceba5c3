import Foundation
import Testing
@testable import SandboxRuntime

/// Pure logic; no root needed.
@Suite struct RuntimeUnitTests {
    @Test func proxyImageIsRecognizedWhateverTheRegistryTagOrDigest() {
        #expect(ProxyImage.matches("swapdev-proxy"))
        #expect(ProxyImage.matches("ghcr.io/acme/swapdev-proxy:1.0"))
        #expect(ProxyImage.matches("localhost:5000/swapdev-proxy@sha256:abcd"))
        #expect(!ProxyImage.matches("ghcr.io/acme/swapdev-proxy-extra:1.0"))
        #expect(!ProxyImage.matches("nginx:swapdev-proxy"))
    }

    @Test func hostsFileListsServiceNamesWithShortNamesOnlyForOwnNamespace() {
        let text = PodFilesystem.hostsFile(podIP: "10.244.0.5", hostname: "web-1", namespace: "dev", services: [
            ServiceRoute(namespace: "dev", name: "api", clusterIP: "10.96.0.7", ports: []),
            ServiceRoute(namespace: "prod", name: "db", clusterIP: "10.96.0.8", ports: []),
            ServiceRoute(namespace: "dev", name: "headless", clusterIP: "None", ports: []),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("10.244.0.5\tweb-1"))
        #expect(lines.contains("10.96.0.7\tapi api.dev api.dev.svc api.dev.svc.cluster.local"))
        #expect(lines.contains("10.96.0.8\tdb.prod db.prod.svc db.prod.svc.cluster.local"))
        #expect(!text.contains("headless"))
    }

    @Test func tailKeepsTheLastLines() {
        let bytes = Array("a\nb\nc\n".utf8)
        #expect(ContainerLogs.tail(bytes, lines: 2) == Array("b\nc\n".utf8))
        #expect(ContainerLogs.tail(bytes, lines: 10) == bytes)
        #expect(ContainerLogs.tail(bytes, lines: 0).isEmpty)
        #expect(ContainerLogs.tail(bytes, lines: nil) == bytes)
        #expect(ContainerLogs.tail(Array("a\nb".utf8), lines: 1) == Array("b".utf8))
    }

    @Test func namesFitInterfaceLimitsAndAreStable() {
        let names = SandboxNetwork.standard.names(forUID: "0b7c7f0e-5a43-4c4e-9a1e-2f9e0c1d2e3f")
        #expect(names.hostVeth.count <= 15)
        #expect(names.netns.hasPrefix("swapdev-"))
        #expect(names.netns == SandboxNetwork.standard.names(forUID: "0b7c7f0e-5a43-4c4e-9a1e-2f9e0c1d2e3f").netns)
        #expect(names.netns != SandboxNetwork.standard.names(forUID: "another").netns)
        #expect(SandboxNetwork.standard.podIP(index: 258) == "10.244.1.2")
    }

    @Test func errorsSayWhatToDo() {
        #expect(SandboxRuntimeError.notRoot(uid: 1000).description.contains("needs root"))
        #expect(SandboxRuntimeError.toolMissing("nsenter").description.contains("install-deps.sh"))
    }

    @Test func commandsResolveAgainstTheContainerPath() {
        #expect(HostProcess.resolve("sh", searchPath: "/bin") == "/bin/sh")
        #expect(HostProcess.resolve("definitely-not-a-command", searchPath: nil) == nil)
    }
}
