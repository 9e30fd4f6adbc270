import Foundation
import Model
import XCTest

/// Tables with the built-in kinds' own columns, CRD printer columns with JSONPath filters, and
/// metadata-only answers for client-go's metadata informers.
final class TableAndMetadataTests: XCTestCase {
    var cluster: TestCluster!
    let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster?.stop() }

    private func table(_ path: String) -> (columns: [String], rows: [[JSON]]) {
        let response = cluster.request("GET", path, accept: tableAccept)
        XCTAssertEqual(response.json["kind"], "Table", response.text)
        let columns = response.json["columnDefinitions"]?.arrayValue?.filter { $0["priority"] == 0 }.compactMap { $0["name"]?.stringValue } ?? []
        let rows = response.json["rows"]?.arrayValue?.map { $0["cells"]?.arrayValue ?? [] } ?? []
        return (columns, rows)
    }

    func testPodColumnsAndStatuses() {
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
                         "spec": ["nodeName": "elsewhere", "containers": [["name": "a", "image": "x"], ["name": "b", "image": "y"]]]]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/pods", json: pod).status, 201)
        let status: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "status": [
            "phase": "Running", "podIP": "10.0.0.7",
            "containerStatuses": [
                ["name": "a", "ready": true, "restartCount": 2, "image": "x", "imageID": "", "state": ["running": ["startedAt": "2026-12-01T09:00:00Z"]],
                 "lastState": ["terminated": ["exitCode": 1, "finishedAt": "2026-12-01T08:59:00Z"]]],
                ["name": "b", "ready": false, "restartCount": 0, "image": "y", "imageID": "", "state": ["waiting": ["reason": "CrashLoopBackOff"]]],
            ]]]
        let updated = cluster.request("PUT", "/api/v1/namespaces/default/pods/p/status", json: status)
        XCTAssertEqual(updated.status, 200, updated.text)
        let (columns, rows) = table("/api/v1/namespaces/default/pods")
        XCTAssertEqual(columns, ["Name", "Ready", "Status", "Restarts", "Age"])
        XCTAssertEqual(Array(rows[0].prefix(3)), ["p", "1/2", "CrashLoopBackOff"])
        XCTAssertTrue(rows[0][3].stringValue?.hasPrefix("2 (") == true, "\(rows[0][3])")
        XCTAssertEqual(rows[0][5], "10.0.0.7")
    }

    func testJobRoleBindingAndEventColumns() {
        let job: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j"],
                         "spec": ["completions": 3, "template": ["spec": ["containers": [["name": "c", "image": "x"]], "restartPolicy": "Never"]]]]
        XCTAssertEqual(cluster.request("POST", "/apis/batch/v1/namespaces/default/jobs", json: job).status, 201)
        let jobStatus: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j"],
                               "status": ["succeeded": 3, "startTime": "2026-12-01T09:00:00Z", "completionTime": "2026-12-01T09:01:05Z",
                                          "conditions": [["type": "Complete", "status": "True"]]]]
        XCTAssertEqual(cluster.request("PUT", "/apis/batch/v1/namespaces/default/jobs/j/status", json: jobStatus).status, 200)
        let jobs = table("/apis/batch/v1/namespaces/default/jobs")
        XCTAssertEqual(jobs.columns, ["Name", "Status", "Completions", "Duration", "Age"])
        XCTAssertEqual(Array(jobs.rows[0].prefix(4)), ["j", "Complete", "3/3", "65s"])

        let binding: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "rb"],
                             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"],
                             "subjects": [["kind": "User", "name": "alice"], ["kind": "ServiceAccount", "name": "bot", "namespace": "ci"]]]
        XCTAssertEqual(cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", json: binding).status, 201)
        let bindings = cluster.request("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", accept: tableAccept).json
        XCTAssertEqual(bindings["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"])
        let cells = bindings["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
        XCTAssertEqual(cells[1], "ClusterRole/view")
        XCTAssertEqual(Array(cells.suffix(3)), ["alice", "", "ci:bot"])

        let event: JSON = ["apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e"], "eventTime": "2026-12-01T09:00:00.000000Z",
                           "regarding": ["kind": "Job", "name": "j"], "reason": "Completed", "note": "Job completed", "type": "Normal",
                           "reportingController": "job-controller", "reportingInstance": "local", "action": "Complete"]
        XCTAssertEqual(cluster.request("POST", "/apis/events.k8s.io/v1/namespaces/default/events", json: event).status, 201)
        for path in ["/api/v1/namespaces/default/events", "/apis/events.k8s.io/v1/namespaces/default/events"] {
            let events = table(path)
            XCTAssertEqual(events.columns, ["Last Seen", "Type", "Reason", "Object", "Message"])
            XCTAssertEqual(Array(events.rows[0][1...3]), ["Normal", "Completed", "job/j"])
            XCTAssertEqual(events.rows[0][6], "Job completed")
        }
    }

    func testPrinterColumnsWithJSONPathFilters() {
        var crd = sessionDefinition()
        var versions = crd.at("spec", "versions")?.arrayValue ?? []
        versions[0].setValueForTest([["name": "Ready", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Ready")].status"#],
                                     ["name": "Last", "type": "string", "jsonPath": ".status.conditions[-1].type"],
                                     ["name": "Agent", "type": "string", "jsonPath": ".spec['agent']"]],
                                    at: "additionalPrinterColumns")
        versions[0].setValueForTest(["type": "object", "x-kubernetes-preserve-unknown-fields": true], at: "schema", "openAPIV3Schema", "properties", "status")
        crd.setValueForTest(.array(versions), at: "spec", "versions")
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: crd).status, 201)
        let sessions = "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions"
        XCTAssertEqual(cluster.request("POST", sessions, json: session("s", agent: "claude")).status, 201)
        let status: JSON = ["apiVersion": "tenantry.dev/v1alpha1", "kind": "Session", "metadata": ["name": "s"],
                            "status": ["conditions": [["type": "Scheduled", "status": "True"], ["type": "Ready", "status": "False"], ["type": "Done", "status": "Unknown"]]]]
        XCTAssertEqual(cluster.request("PUT", sessions + "/s/status", json: status).status, 200)
        let (columns, rows) = table(sessions)
        XCTAssertEqual(columns, ["Name", "Ready", "Last", "Agent"])
        XCTAssertEqual(rows[0], ["s", "False", "Done", "claude"])
    }

    func testPartialObjectMetadataForListsObjectsAndWatches() {
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("m", labels: ["app": "x"])).status, 201)
        let accept = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
        let list = cluster.request("GET", "/api/v1/namespaces/default/configmaps", accept: accept).json
        XCTAssertEqual(list["kind"], "PartialObjectMetadataList")
        XCTAssertEqual(list["apiVersion"], "meta.k8s.io/v1")
        XCTAssertNotNil(list.at("metadata", "resourceVersion"))
        let item = list["items"]?.arrayValue?.first
        XCTAssertEqual(item?["kind"], "PartialObjectMetadata")
        XCTAssertEqual(item?.at("metadata", "labels"), ["app": "x"])
        XCTAssertNil(item?["data"])

        let one = cluster.request("GET", "/api/v1/namespaces/default/configmaps/m", accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1").json
        XCTAssertEqual(one["kind"], "PartialObjectMetadata")
        XCTAssertEqual(one.at("metadata", "name"), "m")
        XCTAssertNil(one["data"])
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/m").json["kind"], "ConfigMap")
    }
}
