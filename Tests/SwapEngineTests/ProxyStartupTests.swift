import Testing
@testable import SwapEngine
import SwapPlan

@Suite("Reading the proxy's log and the summary")
struct ProxyStartupTests {
    @Test func fingerprintIsTheLastAnnouncedHostKey() {
        let log = """
            swapdev-proxy: host key SHA256:AAAAold
            Server listening on 0.0.0.0 port 8022.
            swapdev-proxy: host key SHA256:BBBBnew
            swapdev-proxy: ready
            """
        #expect(ProxyStartup.fingerprint(in: log) == "SHA256:BBBBnew")
        #expect(ProxyStartup.fingerprint(in: "sshd: starting") == nil)
    }

    @Test func summaryNamesPortsEnvAndVolumes() {
        let summary = SwapSummary(
            deployment: "web", namespace: "dev", container: "app", pod: "web-swapdev-abc123",
            inbound: [InboundForward(remotePort: 8080, localPort: 3000, name: "http")],
            outbound: [OutboundForward(localPort: 9000, remoteHost: "127.0.0.1", remotePort: 9000, purpose: "container sidecar")],
            proxyPort: 41000, root: "/tmp/swapdev-root-x", copiedVolumes: ["/etc/app"], envFiles: ["app.env"], variableCount: 12)
        let text = summary.lines.joined(separator: "\n")
        #expect(text.contains("swapped dev/web container app"))
        #expect(text.contains("pod :8080 (http) → 127.0.0.1:3000"))
        #expect(text.contains("127.0.0.1:9000 → 127.0.0.1:9000 (container sidecar)"))
        #expect(text.contains("127.0.0.1:41000"))
        #expect(text.contains("SWAPDEV_ROOT=/tmp/swapdev-root-x (/etc/app)"))
        #expect(text.contains("12 variables → app.env"))
    }

    @Test func phaseDurationsAreFormatted() {
        #expect(PhaseReporter.format(.milliseconds(420)) == "0.42s")
        #expect(PhaseReporter.format(.seconds(3)) == "3.00s")
    }
}
