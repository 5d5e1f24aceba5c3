import Foundation
import KubeEnvironment
import Testing
@testable import SwapPlan

/// What scripts/bad-input.sh checks end to end, at the unit level: each error is one line that
/// names the input and the fix, and names that cannot exist are refused before any request.
@Suite("Bad input: one-line errors and early checks")
struct BadInputTests {
    @Test func namespaceNamesAreDNSLabels() throws {
        for valid in ["default", "my-team", "a", "team-1", String(repeating: "n", count: 63)] {
            #expect(throws: Never.self) { try SwapTarget.validateNamespace(valid) }
        }
        for invalid in ["nämespace", "My_Team", "", "a/b", "-lead", "trail-", "dots.are.not.labels", String(repeating: "n", count: 64)] {
            #expect(throws: SwapPlanError.invalidNamespace(invalid)) { try SwapTarget.validateNamespace(invalid) }
        }
        let text = SwapPlanError.invalidNamespace("nämespace").description
        #expect(text.contains("\"nämespace\"") && text.contains("-n"))
    }

    @Test func deploymentNamesAreDNSSubdomains() throws {
        try SwapTarget.validateDeploymentName("web")
        try SwapTarget.validateDeploymentName("web.v2")
        for invalid in ["wéb", "Web", "web:app", "", "a/b"] {
            #expect(throws: SwapPlanError.invalidDeploymentName(invalid)) { try SwapTarget.validateDeploymentName(invalid) }
        }
    }

    @Test func aBinaryValueIsNamedNotBlamedOnTheDump() throws {
        var dump = Data("A=1\0BIN=".utf8)
        dump.append(contentsOf: [0xff, 0xfe, 0x01])
        dump.append(contentsOf: Array("\0C=3\0".utf8))
        #expect(throws: SwapPlanError.binaryEnvironmentValue(name: "BIN")) { try EnvironmentDump.parse(dump) }
        let text = SwapPlanError.binaryEnvironmentValue(name: "BIN").description
        #expect(text.contains("BIN") && text.contains("$SWAPDEV_ROOT") && !text.contains("\n"))
    }

    @Test func nonASCIIAndLargeValuesParseExactly() throws {
        let unicode = "héllo wörld ✓ 日本語 🚀 e\u{301}"
        let large = String(repeating: "x=\n", count: 40_000)
        let dump = Data("U=\(unicode)\0L=\(large)\0".utf8)
        let variables = try EnvironmentDump.parse(dump)
        #expect(variables.map(\.name) == ["U", "L"])
        #expect(Array(variables[0].value.utf8) == Array(unicode.utf8))
        #expect(variables[1].value == large)
    }

    @Test func proxyFailuresAreOneLine() {
        let multiLine = "failed to pull:\n  rpc error: code = NotFound\n  desc = manifest unknown\n"
        let failures: [ProxyFailure] = [
            .imagePull(image: "registry.example/swapdev-proxy:1", reason: "ErrImagePull", message: multiLine),
            .unschedulable(message: multiLine), .crashLoop(reason: "CrashLoopBackOff", message: multiLine),
            .configError(message: multiLine), .deleted,
        ]
        for failure in failures {
            #expect(!failure.description.contains("\n"), "\(failure)")
        }
        let pull = failures[0].description
        #expect(pull.contains("cannot be pulled (ErrImagePull: failed to pull: rpc error: code = NotFound desc = manifest unknown)"))
        #expect(pull.contains("scripts/build-proxy-image.sh --push --tag") && pull.contains("--proxy-image REGISTRY/swapdev-proxy:TAG"))
    }

    @Test func aContainerWithoutPortsGetsAWarningThatSaysExpose() throws {
        let inbound = try ForwardPlan.inbound(container: ["name": "worker"], exposes: [])
        #expect(inbound.isEmpty)
        let warning = ForwardPlan.noInboundWarning(deployment: "worker", container: "worker")
        #expect(warning.contains("declares no ports") && warning.contains("--expose") && !warning.contains("\n"))
    }

    @Test func everyPlanErrorIsOneLine() {
        let record = SwapRecord(id: "abc123def", originalReplicas: 2, container: "app", owner: "me@host", startedAt: Date(timeIntervalSince1970: 0), proxyPod: "p")
        let errors: [SwapPlanError] = [
            .invalidTarget("x"), .invalidNamespace("x"), .invalidDeploymentName("x"), .noContainers(deployment: "d"),
            .containerNotFound(deployment: "d", container: "c", available: ["a"]), .ambiguousContainer(deployment: "d", available: ["a", "b"]),
            .invalidPortMapping("x", reason: "r"), .unknownNamedPort(name: "n", container: "c", available: []),
            .alreadySwapped(deployment: "d", record: record), .malformedRecord(deployment: "d", annotation: "a", value: "v"),
            .missingPodTemplate(deployment: "d"), .invalidEnvironmentDump(reason: "r"), .binaryEnvironmentValue(name: "B"),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"), "\(error)")
        }
    }
}
