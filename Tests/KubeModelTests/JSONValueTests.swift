import Foundation
import KubeModel
import Testing

@Suite("JSONValue keeps objects whole")
struct JSONValueTests {
    @Test func unknownFieldsRoundTrip() throws {
        let text = #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","x-unknown":{"deep":[1,2.5,true,null]}},"spec":{"replicas":3}}"#
        let value = try JSONValue(parsing: text)
        let again = try JSONValue(parsing: value.serialized())
        #expect(again == value)
        #expect(value[path: ["spec", "replicas"]] == .int(3))
        #expect(value.serializedString().contains(#""replicas":3"#))
        #expect(value[path: ["metadata", "x-unknown", "deep"]]?[1] == .double(2.5))
    }

    @Test func pathSetterCreatesIntermediateObjects() {
        var value = JSONValue.emptyObject
        value[path: ["metadata", "annotations", "a"]] = "b"
        #expect(value.annotations == ["a": "b"])
        value.annotations = [:]
        #expect(value[path: ["metadata", "annotations"]] == nil)
    }

    @Test func statusBodiesRoundTrip() throws {
        let status = KubeStatus(code: 409, reason: "Conflict", message: "stale", name: "web", group: "apps", kind: "deployments",
                                causes: [.init(reason: "FieldValueInvalid", message: "bad", field: "spec.replicas")])
        let parsed = try #require(KubeStatus(json: try JSONValue(parsing: status.json.serialized())))
        #expect(parsed == status)
    }

    @Test func malformedJSONIsATypedError() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "{nope") }
    }

    @Test func resourcePaths() {
        #expect(APIResource.deployments.path(namespace: "dev", name: "web", subresource: "scale") == "/apis/apps/v1/namespaces/dev/deployments/web/scale")
        #expect(APIResource.namespaces.path(namespace: "ignored", name: "dev") == "/api/v1/namespaces/dev")
    }
}
