import Foundation
import LocalCluster
import Model
import XCTest

final class CRUDTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    func testCreateGetAndAlreadyExists() {
        let created = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("one"))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertNotNil(created.json.at("metadata", "uid")?.stringValue)
        XCTAssertNotNil(created.json.at("metadata", "creationTimestamp")?.stringValue)
        let version = created.json.at("metadata", "resourceVersion")?.stringValue
        XCTAssertNotNil(version)

        let fetched = cluster.request("GET", "/api/v1/namespaces/default/configmaps/one")
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.json.at("data", "k"), "v")
        XCTAssertEqual(fetched.json.at("metadata", "resourceVersion")?.stringValue, version)

        let again = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("one"))
        XCTAssertEqual(again.status, 409)
        XCTAssertEqual(again.json["kind"], "Status")
        XCTAssertEqual(again.json["reason"], "AlreadyExists")
        XCTAssertEqual(again.json["message"], "configmaps \"one\" already exists")
    }

    func testMissingObjectIsNotFoundStatus() {
        let missing = cluster.request("GET", "/api/v1/namespaces/default/configmaps/nope")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.json["reason"], "NotFound")
        XCTAssertEqual(missing.json.at("details", "name"), "nope")
        XCTAssertEqual(missing.json["code"], 404)
    }

    func testUpdateWithStaleResourceVersionIsConflict() {
        let created = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("two")).json
        var first = created
        first.setValueForTest(["k": "first"], at: "data")
        let updated = cluster.request("PUT", "/api/v1/namespaces/default/configmaps/two", json: first)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertNotEqual(updated.json.at("metadata", "resourceVersion"), created.at("metadata", "resourceVersion"))

        var stale = created
        stale.setValueForTest(["k": "stale"], at: "data")
        let conflict = cluster.request("PUT", "/api/v1/namespaces/default/configmaps/two", json: stale)
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.json["reason"], "Conflict")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/two").json.at("data", "k"), "first")
    }

    func testGenerationBumpsOnlyWhenContentChanges() {
        let crd = sessionDefinition()
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: crd).status, 201)
        let path = "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions"
        let created = cluster.request("POST", path, json: session("g", agent: "claude"))
        XCTAssertEqual(created.json.at("metadata", "generation"), 1)
        var labelled = created.json
        labelled.setValueForTest(["a": "b"], at: "metadata", "labels")
        XCTAssertEqual(cluster.request("PUT", path + "/g", json: labelled).json.at("metadata", "generation"), 1)
        let patched = cluster.request("PATCH", path + "/g", json: ["spec": ["agent": "codex"]], contentType: "application/merge-patch+json")
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.json.at("metadata", "generation"), 2)
        XCTAssertEqual(patched.json.at("metadata", "labels", "a"), "b")
    }

    func testNoOpUpdateKeepsResourceVersion() {
        let created = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("same")).json
        let again = cluster.request("PUT", "/api/v1/namespaces/default/configmaps/same", json: created)
        XCTAssertEqual(again.json.at("metadata", "resourceVersion"), created.at("metadata", "resourceVersion"))
    }

    func testObjectsNeedAnExistingLiveNamespace() {
        let missing = cluster.request("POST", "/api/v1/namespaces/ghost/configmaps", json: configMap("x"))
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.json["message"], "namespaces \"ghost\" not found")

        cluster.createNamespace("leaving")
        var held = configMap("held")
        held.setValueForTest(["example.com/hold"], at: "metadata", "finalizers")
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/leaving/configmaps", json: held).status, 201)
        XCTAssertEqual(cluster.request("DELETE", "/api/v1/namespaces/leaving").status, 200)
        let refused = cluster.request("POST", "/api/v1/namespaces/leaving/configmaps", json: configMap("late"))
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.json["reason"], "Forbidden")
        XCTAssertTrue(refused.json["message"]?.stringValue?.contains("because it is being terminated") ?? false, refused.text)
    }

    func testRequestsWithoutTheTokenAreUnauthorized() {
        let anonymous = cluster.request("GET", "/api/v1/namespaces", token: "wrong")
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.json["reason"], "Unauthorized")
        XCTAssertEqual(anonymous.json["message"], "Unauthorized", "worded as kube-apiserver words it")
        // Without credentials /version and the health checks answer (system:public-info-viewer); a
        // wrong credential is refused everywhere, as kube-apiserver refuses it.
        XCTAssertEqual(TestHTTP.send("GET", cluster.server.url + "/version", body: nil, contentType: "application/json", token: nil).status, 200)
        XCTAssertEqual(TestHTTP.send("GET", cluster.server.url + "/healthz", body: nil, contentType: "application/json", token: nil).status, 200)
        XCTAssertEqual(TestHTTP.send("GET", cluster.server.url + "/api", body: nil, contentType: "application/json", token: nil).status, 401)
        XCTAssertEqual(cluster.request("GET", "/version", token: "wrong").status, 401)
    }

    func testMalformedBodyOversizedBodyAndUnknownKind() {
        let malformed = cluster.request("POST", "/api/v1/namespaces/default/configmaps", text: "{\"metadata\": ")
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(malformed.json["kind"], "Status")
        XCTAssertTrue(malformed.json["message"]?.stringValue?.contains("not valid JSON") ?? false, malformed.text)

        let big = configMap("big", data: ["blob": .string(String(repeating: "x", count: 3 * 1024 * 1024 + 10))])
        let tooLarge = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: big)
        XCTAssertEqual(tooLarge.status, 413)
        XCTAssertEqual(tooLarge.json["reason"], "RequestEntityTooLarge")

        let unknown = cluster.request("GET", "/api/v1/namespaces/default/widgets")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.json["kind"], "Status")
    }

    func testSecretStringDataMovesIntoDataAndImmutableDataStays() {
        let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "stringData": ["token": "abc"], "immutable": true]
        let created = cluster.request("POST", "/api/v1/namespaces/default/secrets", json: secret)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json["data"], ["token": "YWJj"])
        XCTAssertNil(created.json["stringData"])
        XCTAssertEqual(created.json["type"], "Opaque")
        let changed = cluster.request("PATCH", "/api/v1/namespaces/default/secrets/s", json: ["data": ["token": "eHl6"]], contentType: "application/merge-patch+json")
        XCTAssertEqual(changed.status, 422, changed.text)
        XCTAssertEqual(changed.json.at("details", "causes")?.arrayValue?.first?["field"], "data")
    }

    func testDryRunChangesNothing() {
        let dry = cluster.request("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", json: configMap("dry"))
        XCTAssertEqual(dry.status, 201)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/dry").status, 404)
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", json: configMap("dry")).status, 400)
    }

    func testDiscoveryListsBuiltInsAndCustomKinds() {
        let core = cluster.request("GET", "/api/v1").json
        let names = core["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertTrue(names.contains("configmaps") && names.contains("namespaces") && names.contains("secrets"))
        XCTAssertFalse(cluster.request("GET", "/apis").text.contains("tenantry.dev"))
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: sessionDefinition()).status, 201)
        XCTAssertTrue(cluster.request("GET", "/apis").text.contains("tenantry.dev/v1alpha1"))
        let custom = cluster.request("GET", "/apis/tenantry.dev/v1alpha1").json
        XCTAssertEqual(custom["resources"]?.arrayValue?.first?["kind"], "Session")
        let openAPI = cluster.request("GET", "/openapi/v3/apis/tenantry.dev/v1alpha1")
        XCTAssertEqual(openAPI.status, 200)
        XCTAssertTrue(openAPI.text.contains("fieldValidation"))
    }
}

extension JSON {
    mutating func setValueForTest(_ value: JSON, at path: String...) {
        guard let first = path.first, case .object(var object) = self else { return }
        if path.count == 1 {
            object[first] = value
        } else {
            var child = object[first] ?? .object(JSONObject())
            let rest = Array(path.dropFirst())
            child.setNested(value, rest)
            object[first] = child
        }
        self = .object(object)
    }

    private mutating func setNested(_ value: JSON, _ path: [String]) {
        guard let first = path.first, case .object(var object) = self else { return }
        if path.count == 1 { object[first] = value } else {
            var child = object[first] ?? .object(JSONObject())
            child.setNested(value, Array(path.dropFirst()))
            object[first] = child
        }
        self = .object(object)
    }
}

func sessionDefinition() -> JSON {
    [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "sessions.tenantry.dev"],
        "spec": [
            "group": "tenantry.dev", "scope": "Namespaced",
            "names": ["plural": "sessions", "singular": "session", "kind": "Session"],
            "versions": [[
                "name": "v1alpha1", "served": true, "storage": true, "subresources": ["status": [:]],
                "schema": ["openAPIV3Schema": [
                    "type": "object",
                    "properties": [
                        "spec": ["type": "object", "required": ["agent"], "properties": [
                            "agent": ["type": "string", "enum": ["claude", "codex"]],
                            "replicas": ["type": "integer", "minimum": 0],
                        ]],
                        "status": ["type": "object", "properties": ["phase": ["type": "string"]]],
                    ],
                ]],
            ]],
        ],
    ]
}

func session(_ name: String, agent: JSON, extra: JSONObject = [:]) -> JSON {
    var spec: JSONObject = ["agent": agent]
    for (key, value) in extra.pairs { spec[key] = value }
    return ["apiVersion": "tenantry.dev/v1alpha1", "kind": "Session", "metadata": ["name": .string(name)], "spec": .object(spec)]
}
