import Foundation
import Model
import XCTest

final class CustomResourceTests: XCTestCase {
    var cluster: TestCluster!
    let sessions = "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions"

    override func setUpWithError() throws {
        cluster = try TestCluster()
        let created = cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: sessionDefinition())
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json.at("status", "conditions")?.arrayValue?.last?["type"], "Established")
    }

    override func tearDown() { cluster.stop() }

    func testInvalidCustomResourceIsRejectedWithFieldPaths() {
        let invalid = cluster.request("POST", sessions, json: session("bad", agent: "gpt", extra: ["replicas": "many"]))
        XCTAssertEqual(invalid.status, 422, invalid.text)
        XCTAssertEqual(invalid.json["reason"], "Invalid")
        let causes = invalid.json.at("details", "causes")?.arrayValue ?? []
        XCTAssertEqual(causes.compactMap { $0["field"]?.stringValue }.sorted(), ["spec.agent", "spec.replicas"])
        XCTAssertEqual(causes.first { $0["field"] == "spec.agent" }?["reason"], "FieldValueNotSupported")

        let missing = cluster.request("POST", sessions, json: ["apiVersion": "tenantry.dev/v1alpha1", "kind": "Session", "metadata": ["name": "m"], "spec": [:]])
        XCTAssertEqual(missing.status, 422)
        XCTAssertEqual(missing.json.at("details", "causes")?.arrayValue?.first?["field"], "spec.agent")
        XCTAssertEqual(missing.json.at("details", "causes")?.arrayValue?.first?["reason"], "FieldValueRequired")

        let negative = cluster.request("POST", sessions, json: session("neg", agent: "claude", extra: ["replicas": -1]))
        XCTAssertEqual(negative.status, 422)
    }

    func testMetadataIsKeptWhateverTheSchemaSaysOfIt() {
        var definition = sessionDefinition()
        definition.setValueForTest(.string("sessions.tenantry.dev"), at: "metadata", "name")
        var versions = definition.at("spec", "versions")?.arrayValue ?? []
        var schema = versions[0].at("schema", "openAPIV3Schema") ?? [:]
        schema.setValueForTest(["type": "object"], at: "properties", "metadata")
        versions[0].setValueForTest(schema, at: "schema", "openAPIV3Schema")
        definition.setValueForTest(.array(versions), at: "spec", "versions")
        let replaced = cluster.request("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev", json: definition)
        XCTAssertEqual(replaced.status, 200, replaced.text)
        var labelled = session("meta", agent: "claude")
        labelled.setValueForTest(["team": "a"], at: "metadata", "labels")
        let created = cluster.request("POST", sessions, json: labelled)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json.at("metadata", "name"), "meta")
        XCTAssertEqual(created.json.at("metadata", "labels", "team"), "a")
    }

    func testSetListsRefuseDuplicates() {
        var definition = cluster.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev").json
        var versions = definition.at("spec", "versions")?.arrayValue ?? []
        var schema = versions[0].at("schema", "openAPIV3Schema") ?? [:]
        schema.setValueForTest(["type": "array", "x-kubernetes-list-type": "set", "items": ["type": "string"]], at: "properties", "spec", "properties", "tools")
        versions[0].setValueForTest(schema, at: "schema", "openAPIV3Schema")
        definition.setValueForTest(.array(versions), at: "spec", "versions")
        XCTAssertEqual(cluster.request("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev", json: definition).status, 200)
        let duplicate = cluster.request("POST", sessions, json: session("dup", agent: "claude", extra: ["tools": ["git", "git"]]))
        XCTAssertEqual(duplicate.status, 422, duplicate.text)
        XCTAssertEqual(duplicate.json.at("details", "causes")?.arrayValue?.first?["field"], "spec.tools[1]")
        XCTAssertEqual(cluster.request("POST", sessions, json: session("unique", agent: "claude", extra: ["tools": ["git", "gh"]])).status, 201)
    }

    func testUnknownFieldsArePrunedOrRefusedWhenStrict() {
        let pruned = cluster.request("POST", sessions, json: session("p", agent: "claude", extra: ["color": "blue"]))
        XCTAssertEqual(pruned.status, 201, pruned.text)
        XCTAssertNil(pruned.json.at("spec", "color"))
        XCTAssertTrue(pruned.headers["warning"]?.contains("spec.color") ?? false)

        let strict = cluster.request("POST", sessions + "?fieldValidation=Strict", json: session("s", agent: "claude", extra: ["color": "blue"]))
        XCTAssertEqual(strict.status, 400)
        XCTAssertTrue(strict.json["message"]?.stringValue?.contains("unknown field \"spec.color\"") ?? false, strict.text)
    }

    func testStatusSubresourceSeparatesStatusFromSpec() {
        var withStatus = session("st", agent: "claude")
        withStatus.setValueForTest(["phase": "Running"], at: "status")
        let created = cluster.request("POST", sessions, json: withStatus)
        XCTAssertNil(created.json["status"], "status on create is dropped when the CRD declares the subresource")

        let status = cluster.request("PATCH", sessions + "/st/status", json: ["status": ["phase": "Running"], "spec": ["agent": "codex"]],
                                     contentType: "application/merge-patch+json")
        XCTAssertEqual(status.status, 200, status.text)
        XCTAssertEqual(status.json.at("status", "phase"), "Running")
        XCTAssertEqual(status.json.at("spec", "agent"), "claude")

        var main = status.json
        main.setValueForTest(["phase": "Lost"], at: "status")
        main.setValueForTest(["agent": "codex"], at: "spec")
        let updated = cluster.request("PUT", sessions + "/st", json: main)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.json.at("status", "phase"), "Running")
        XCTAssertEqual(updated.json.at("spec", "agent"), "codex")
    }

    func testTablesUsePrinterColumnsWhenKubectlAsks() {
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        var definition = cluster.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev").json
        var versions = definition.at("spec", "versions")?.arrayValue ?? []
        versions[0].setValueForTest([["name": "Agent", "type": "string", "jsonPath": ".spec.agent"]], at: "additionalPrinterColumns")
        definition.setValueForTest(.array(versions), at: "spec", "versions")
        XCTAssertEqual(cluster.request("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev", json: definition).status, 200)
        cluster.request("POST", sessions, json: session("t", agent: "codex"))

        let custom = cluster.request("GET", sessions, accept: table).json
        XCTAssertEqual(custom["kind"], "Table")
        XCTAssertEqual(custom["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["Name", "Agent"])
        XCTAssertEqual(custom["rows"]?.arrayValue?.first?["cells"], ["t", "codex"])
        XCTAssertEqual(custom["rows"]?.arrayValue?.first?.at("object", "metadata", "name"), "t")

        cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("c", data: ["a": "1", "b": "2"]))
        let builtIn = cluster.request("GET", "/api/v1/namespaces/default/configmaps/c", accept: table).json
        XCTAssertEqual(builtIn["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["Name", "Data", "Age"])
        XCTAssertEqual(builtIn["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.prefix(2).map { $0 }, ["c", 2])
        XCTAssertEqual(cluster.request("GET", sessions).json["kind"], "SessionList", "without as=Table the objects come back")
    }

    func testDeletingTheDefinitionRemovesItsKindAndObjects() {
        XCTAssertEqual(cluster.request("POST", sessions, json: session("gone", agent: "claude")).status, 201)
        XCTAssertEqual(cluster.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sessions.tenantry.dev").status, 200)
        XCTAssertEqual(cluster.request("GET", sessions).status, 404)
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: sessionDefinition()).status, 201)
        XCTAssertEqual(cluster.request("GET", sessions).json["items"], .array([]))
    }
}
