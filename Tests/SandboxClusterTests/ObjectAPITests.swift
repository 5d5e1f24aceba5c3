import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

@Suite("Object API: create, update, conflicts, generation, patches", .serialized, .timeLimit(.minutes(1)))
struct ObjectAPITests {
    @Test func createGetAndStatusBodies() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let created = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("settings"))
        #expect(created.code == 201)
        #expect(created.body.uid?.isEmpty == false)
        #expect(created.body[path: ["metadata", "creationTimestamp"]]?.string?.hasSuffix("Z") == true)
        #expect(Int(created.body.resourceVersion ?? "") != nil)

        let again = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("settings"))
        #expect(again.code == 409)
        #expect(again.body["reason"]?.string == "AlreadyExists")
        #expect(again.body["message"]?.string == "configmaps \"settings\" already exists")

        let missing = await sandbox.call("GET", "/apis/apps/v1/namespaces/default/deployments/nope")
        #expect(missing.code == 404)
        #expect(missing.body["message"]?.string == "deployments.apps \"nope\" not found")
        #expect(missing.body[path: ["details", "group"]]?.string == "apps")

        let noName = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", ["metadata": .emptyObject])
        #expect(noName.code == 422)
        #expect(noName.body["reason"]?.string == "Invalid")
        #expect(noName.body[path: ["details", "causes"]]?[0]?["field"]?.string == "metadata.name")

        let generated = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", ["metadata": ["generateName": "gen-"]])
        #expect(generated.code == 201)
        #expect(generated.body.name?.hasPrefix("gen-") == true && generated.body.name?.count == 9)

        let unknown = await sandbox.call("GET", "/apis/example.com/v1/namespaces/default/widgets")
        #expect(unknown.code == 404)
        let wrongMethod = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps/settings")
        #expect(wrongMethod.code == 405)
        let noNamespace = await sandbox.call("POST", "/api/v1/namespaces/ghost/configmaps", Fixtures.configMap("x"))
        #expect(noNamespace.code == 404)
        #expect(noNamespace.body["message"]?.string == "namespaces \"ghost\" not found")
    }

    @Test func staleUpdateIsAConflict() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let created = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment("web"))
        #expect(created.code == 201)
        // The deployment controller writes status concurrently (bumping the resourceVersion), so
        // the first update is read-modify-write with retry on 409 — what every client must do.
        var updated = created
        for _ in 0..<20 {
            var latest = await sandbox.call("GET", "/apis/apps/v1/namespaces/default/deployments/web", nil).body
            latest[path: ["spec", "replicas"]] = 3
            updated = await sandbox.call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", latest)
            if updated.code != 409 { break }
        }
        #expect(updated.code == 200)
        #expect(updated.body.resourceVersion != created.body.resourceVersion)

        var stale = created.body
        stale[path: ["spec", "replicas"]] = 5
        let conflict = await sandbox.call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", stale)
        #expect(conflict.code == 409)
        #expect(conflict.body["reason"]?.string == "Conflict")
        #expect(conflict.body["message"]?.string == "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again")

        stale.resourceVersion = nil
        let unconditional = await sandbox.call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", stale)
        #expect(unconditional.code == 200)
        #expect(unconditional.body[path: ["spec", "replicas"]]?.int == 5)
    }

    @Test func generationFollowsSpecOnly() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let path = "/apis/apps/v1/namespaces/default/deployments/gen"
        _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment("gen", replicas: 0))
        #expect(await sandbox.call("GET", path).body[path: ["metadata", "generation"]]?.int == 1)

        let labels = await sandbox.patch(path, #"{"metadata":{"labels":{"team":"a"}}}"#, contentType: "application/merge-patch+json")
        #expect(labels.code == 200)
        #expect(labels.body[path: ["metadata", "generation"]]?.int == 1)

        let status = await sandbox.patch(path + "/status", #"{"status":{"replicas":7}}"#, contentType: "application/merge-patch+json")
        #expect(status.body[path: ["metadata", "generation"]]?.int == 1)
        #expect(status.body[path: ["status", "replicas"]]?.int == 7)

        // Status sent to the main resource is ignored.
        let ignored = await sandbox.patch(path, #"{"status":{"replicas":99}}"#, contentType: "application/merge-patch+json")
        #expect(ignored.body[path: ["status", "replicas"]]?.int != 99)

        let spec = await sandbox.patch(path, #"{"spec":{"replicas":1}}"#, contentType: "application/merge-patch+json")
        #expect(spec.body[path: ["metadata", "generation"]]?.int == 2)
    }

    @Test func patchTypes() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        var deployment = Fixtures.deployment("patchy", replicas: 0)
        deployment[path: ["spec", "template", "spec", "containers"]] = [
            ["name": "app", "image": "a:1", "command": ["sleep", "1"], "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]]],
            ["name": "side", "image": "s:1", "command": ["sleep", "1"]],
        ]
        _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment)
        let path = "/apis/apps/v1/namespaces/default/deployments/patchy"

        let strategic = await sandbox.patch(path, #"""
            {"spec":{"template":{"spec":{"containers":[{"name":"app","image":"a:2","env":[{"name":"B","$patch":"delete"},{"name":"C","value":"3"}]}]}}}}
            """#, contentType: "application/strategic-merge-patch+json")
        #expect(strategic.code == 200)
        let containers = strategic.body[path: ["spec", "template", "spec", "containers"]]?.array ?? []
        #expect(containers.count == 2, "the strategic patch merges containers by name")
        #expect(containers.first?["image"]?.string == "a:2")
        #expect(containers.first?["env"]?.array?.compactMap { $0["name"]?.string } == ["A", "C"])

        let merge = await sandbox.patch(path, #"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"o:1","command":["x"]}]}}}}"#,
                                        contentType: "application/merge-patch+json")
        #expect(merge.body[path: ["spec", "template", "spec", "containers"]]?.array?.count == 1, "a merge patch replaces lists")

        let json = await sandbox.patch(path, #"[{"op":"test","path":"/spec/replicas","value":0},{"op":"replace","path":"/spec/replicas","value":0},{"op":"add","path":"/metadata/labels","value":{"x":"y"}}]"#,
                                       contentType: "application/json-patch+json")
        #expect(json.code == 200)
        #expect(json.body.labels == ["x": "y"])
        let failedTest = await sandbox.patch(path, #"[{"op":"test","path":"/spec/replicas","value":4}]"#, contentType: "application/json-patch+json")
        #expect(failedTest.code == 422)

        let unsupported = await sandbox.patch(path, "{}", contentType: "application/apply-patch+yaml")
        #expect(unsupported.code == 415)
        #expect(unsupported.body["reason"]?.string == "UnsupportedMediaType")

        let stalePatch = await sandbox.patch(path, #"{"metadata":{"resourceVersion":"1"},"spec":{"replicas":0}}"#, contentType: "application/merge-patch+json")
        #expect(stalePatch.code == 409)
    }

    @Test func patchAlgorithms() throws {
        let merged = MergePatch.apply(["a": ["b": .null, "c": 2], "d": [1]], to: ["a": ["b": 1, "e": 3], "d": [5, 6]])
        #expect(merged == ["a": ["c": 2, "e": 3], "d": [1]])
        let patched = try JSONPatch.apply(
            [["op": "add", "path": "/list/-", "value": 3], ["op": "remove", "path": "/obj/x"], ["op": "copy", "from": "/list/0", "path": "/copied"],
             ["op": "move", "from": "/obj/y", "path": "/moved"], ["op": "add", "path": "/a~1b", "value": true]],
            to: ["list": [1, 2], "obj": ["x": 1, "y": 2]])
        #expect(patched == ["list": [1, 2, 3], "obj": .emptyObject, "copied": 1, "moved": 2, "a/b": true])
        #expect(throws: PatchError.self) { try JSONPatch.apply([["op": "remove", "path": "/missing"]], to: .emptyObject) }

        let retained = try StrategicMergePatch.apply(
            ["spec": ["strategy": ["$retainKeys": ["type"], "type": "Recreate"]]],
            to: ["spec": ["strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1]]]])
        #expect(retained == ["spec": ["strategy": ["type": "Recreate"]]])
        let replaced = try StrategicMergePatch.apply(
            ["volumes": [["$patch": "replace"], ["name": "n", "emptyDir": .emptyObject]]],
            to: ["volumes": [["name": "old"]]])
        #expect(replaced == ["volumes": [["name": "n", "emptyDir": .emptyObject]]])
        let ports = try StrategicMergePatch.apply(
            ["ports": [["containerPort": 80, "name": "web"]]], to: ["ports": [["containerPort": 80], ["containerPort": 81]]])
        #expect(ports["ports"]?.array?.count == 2)
    }

    @Test func scaleSubresource() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment("scaled", replicas: 0))
        let path = "/apis/apps/v1/namespaces/default/deployments/scaled/scale"
        let scale = await sandbox.call("GET", path)
        #expect(scale.body["kind"]?.string == "Scale")
        #expect(scale.body["apiVersion"]?.string == "autoscaling/v1")
        #expect(scale.body[path: ["status", "selector"]]?.string == "app=scaled")
        var put = scale.body
        put[path: ["spec", "replicas"]] = 0
        put.resourceVersion = "1"
        #expect(await sandbox.call("PUT", path, put).code == 409)
        // The deployment controller may write status meanwhile: re-read and retry on 409, as clients do.
        var code = 0
        for _ in 0..<20 {
            var latest = await sandbox.call("GET", path).body
            latest[path: ["spec", "replicas"]] = 1
            code = await sandbox.call("PUT", path, latest).code
            if code != 409 { break }
        }
        #expect(code == 200)
        let patched = await sandbox.patch(path, #"{"spec":{"replicas":0}}"#, contentType: "application/merge-patch+json")
        #expect(patched.body[path: ["spec", "replicas"]]?.int == 0)
        #expect(await sandbox.call("GET", "/apis/apps/v1/namespaces/default/deployments/scaled").body[path: ["spec", "replicas"]]?.int == 0)
    }

    @Test func selectors() async throws {
        let labels = try LabelSelector(parsing: "app=web,tier!=db,env in (prod, staging),!legacy,team,zone notin (a)")
        #expect(labels.matches(["app": "web", "env": "prod", "team": "x", "zone": "b"]))
        #expect(!labels.matches(["app": "web", "env": "prod", "team": "x", "legacy": "1"]))
        #expect(!labels.matches(["app": "web", "env": "dev", "team": "x"]))
        #expect(!labels.matches(["app": "web", "env": "prod"]))
        #expect(try LabelSelector(parsing: "a==b").matches(["a": "b"]))
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "a in b") }

        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        for (name, app) in [("one", "web"), ("two", "web"), ("three", "db")] {
            _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod(name, labels: ["app": app]))
        }
        let web = await sandbox.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")
        #expect(web.body["items"]?.array?.compactMap(\.name).sorted() == ["one", "two"])
        #expect(web.body[path: ["metadata", "resourceVersion"]]?.string != nil)
        let notWeb = await sandbox.call("GET", "/api/v1/pods?labelSelector=app!%3Dweb")
        #expect(notWeb.body["items"]?.array?.compactMap(\.name) == ["three"])
        let byName = await sandbox.call("GET", "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dtwo")
        #expect(byName.body["items"]?.array?.compactMap(\.name) == ["two"])
        #expect(await sandbox.eventually("pods running") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning").body["items"]?.array?.count == 3
        })
        let node = await sandbox.call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dsandbox,metadata.namespace%3Ddefault")
        #expect(node.body["items"]?.array?.count == 3)
        #expect(await sandbox.call("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx").code == 400)
    }
}
