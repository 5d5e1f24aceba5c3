import KubeModel
import Testing
@testable import SwapPlan

@Suite("--expose [LOCAL:]REMOTE and the forward plan")
struct PortMappingTests {
    @Test func parsesForms() throws {
        #expect(try PortMapping(parsing: "8080") == PortMapping(local: nil, remote: .number(8080)))
        #expect(try PortMapping(parsing: "3000:80") == PortMapping(local: 3000, remote: .number(80)))
        #expect(try PortMapping(parsing: "3000:http") == PortMapping(local: 3000, remote: .name("http")))
        #expect(try PortMapping(parsing: "grpc-web") == PortMapping(local: nil, remote: .name("grpc-web")))
        #expect(try PortMapping(parsing: "3000:80").description == "3000:80")
    }

    @Test(arguments: [
        ("0", "outside 1-65535"), ("65536", "outside 1-65535"), ("abc:80", "not a number"), ("1:2:3", "too many colons"),
        ("", "neither"), ("80:", "neither"), ("-1", "neither"), ("80:HTTP", "neither"), ("8080:averyveryverylongname", "neither"),
        ("99999999999999999999", "not a number"),
    ])
    func rejectsInvalid(_ text: String, _ reason: String) {
        let error = #expect(throws: SwapPlanError.self) { try PortMapping(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains("[LOCAL:]REMOTE") == true)
    }

    @Test func inboundCoversEveryDeclaredTCPPortAndExposes() throws {
        let app = try #require(Fixtures.container("app", in: Fixtures.template))
        let forwards = try ForwardPlan.inbound(container: app, exposes: [
            PortMapping(local: 3000, remote: .name("http")), PortMapping(local: nil, remote: .number(7000)),
        ])
        #expect(forwards == [
            InboundForward(remotePort: 8080, localPort: 3000, name: "http"),
            InboundForward(remotePort: 9090, localPort: 9090, name: "metrics"),
            InboundForward(remotePort: 7000, localPort: 7000),
        ])
    }

    @Test func unknownNamedPortListsTheNames() throws {
        let app = try #require(Fixtures.container("app", in: Fixtures.template))
        let error = #expect(throws: SwapPlanError.self) {
            try ForwardPlan.inbound(container: app, exposes: [PortMapping(remote: .name("grpc"))])
        }
        #expect(error == .unknownNamedPort(name: "grpc", container: "app", available: ["http", "metrics"]))
    }

    @Test func outboundReachesSiblingTCPPortsAndToPod() throws {
        let spec = try #require(Fixtures.deployment[path: ["spec", "template", "spec"]])
        let forwards = ForwardPlan.outbound(podSpec: spec, targetContainer: "app", toPod: [6000, 15000])
        #expect(forwards == [
            OutboundForward(localPort: 15000, remoteHost: "127.0.0.1", remotePort: 15000, purpose: "container sidecar"),
            OutboundForward(localPort: 6000, remoteHost: "127.0.0.1", remotePort: 6000, purpose: "--to-pod"),
        ])
    }
}
