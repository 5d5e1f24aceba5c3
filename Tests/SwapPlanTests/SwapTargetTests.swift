import KubeModel
import Testing
@testable import SwapPlan

@Suite("DEPLOYMENT[:CONTAINER] parsing and container selection")
struct SwapTargetTests {
    @Test func parsesDeploymentAndContainer() throws {
        #expect(try SwapTarget(parsing: "web") == SwapTarget(deployment: "web"))
        #expect(try SwapTarget(parsing: "my-app:go") == SwapTarget(deployment: "my-app", container: "go"))
        #expect(try SwapTarget(parsing: "api.v2:main").deployment == "api.v2")
    }

    @Test(arguments: ["", ":app", "Web", "web:", "web:a:b", "web_1", "-web", "web:App", String(repeating: "a", count: 254)])
    func rejectsInvalidNames(_ text: String) {
        #expect(throws: SwapPlanError.invalidTarget(text)) { try SwapTarget(parsing: text) }
    }

    @Test func namedContainerMustExist() throws {
        let target = SwapTarget(deployment: "web", container: "db")
        let error = #expect(throws: SwapPlanError.self) { try target.selectContainer(in: Fixtures.deployment) }
        #expect(error == .containerNotFound(deployment: "web", container: "db", available: ["app", "sidecar"]))
        #expect(error?.description.contains("app, sidecar") == true)
    }

    @Test func defaultContainerAnnotationChooses() throws {
        #expect(try SwapTarget(deployment: "web").selectContainer(in: Fixtures.deployment) == "app")
        #expect(try SwapTarget(deployment: "web", container: "sidecar").selectContainer(in: Fixtures.deployment) == "sidecar")
    }

    @Test func onlyContainerIsChosen() throws {
        var deployment = Fixtures.deployment
        deployment[path: ["spec", "template", "spec", "containers"]] = [["name": "solo", "image": "x"]]
        deployment[path: ["spec", "template", "metadata", "annotations"]] = nil
        #expect(try SwapTarget(deployment: "web").selectContainer(in: deployment) == "solo")
    }

    @Test func severalContainersWithoutAnnotationIsAnErrorListingThem() {
        var deployment = Fixtures.deployment
        deployment[path: ["spec", "template", "metadata", "annotations"]] = nil
        let error = #expect(throws: SwapPlanError.self) { try SwapTarget(deployment: "web").selectContainer(in: deployment) }
        #expect(error == .ambiguousContainer(deployment: "web", available: ["app", "sidecar"]))
        #expect(error?.description.contains("web:CONTAINER") == true)
    }

    @Test func annotationNamingAMissingContainerDoesNotChoose() {
        var deployment = Fixtures.deployment
        deployment[path: ["spec", "template", "metadata", "annotations", SwapTarget.defaultContainerAnnotation]] = "gone"
        #expect(throws: SwapPlanError.ambiguousContainer(deployment: "web", available: ["app", "sidecar"])) {
            try SwapTarget(deployment: "web").selectContainer(in: deployment)
        }
    }

    @Test func deploymentWithoutContainers() {
        #expect(throws: SwapPlanError.noContainers(deployment: "web")) {
            try SwapTarget(deployment: "web").selectContainer(in: ["spec": ["template": ["spec": [:]]]])
        }
    }
}
