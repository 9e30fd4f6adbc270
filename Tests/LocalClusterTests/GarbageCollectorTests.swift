import Foundation
import Model
import XCTest

/// The garbage collector by ownerReferences, through the API: background, foreground, orphan, and
/// owner references that cross namespaces.
final class GarbageCollectorTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    private func create(_ namespace: String, _ name: String, owner: JSON? = nil, finalizers: [String] = []) -> JSON {
        var object = configMap(name)
        if let owner {
            object.setValueForTest([["apiVersion": "v1", "kind": "ConfigMap", "name": owner.at("metadata", "name") ?? "",
                                     "uid": owner.at("metadata", "uid") ?? "", "blockOwnerDeletion": true]], at: "metadata", "ownerReferences")
        }
        if !finalizers.isEmpty { object.setValueForTest(.strings(finalizers), at: "metadata", "finalizers") }
        let response = cluster.request("POST", "/api/v1/namespaces/\(namespace)/configmaps", json: object)
        XCTAssertEqual(response.status, 201, response.text)
        return response.json
    }

    private func exists(_ namespace: String, _ name: String) -> Bool {
        cluster.request("GET", "/api/v1/namespaces/\(namespace)/configmaps/\(name)").status == 200
    }

    func testBackgroundDeletionCollectsDependents() {
        let parent = create("default", "parent")
        _ = create("default", "child", owner: parent)
        XCTAssertEqual(cluster.request("DELETE", "/api/v1/namespaces/default/configmaps/parent").status, 200)
        XCTAssertFalse(exists("default", "parent"))
        XCTAssertTrue(eventually { !self.exists("default", "child") })
    }

    func testOrphanDeletionKeepsDependentsWithoutTheReference() {
        let parent = create("default", "parent")
        _ = create("default", "child", owner: parent)
        let deleted = cluster.request("DELETE", "/api/v1/namespaces/default/configmaps/parent", json: ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"])
        XCTAssertEqual(deleted.json.at("metadata", "finalizers"), ["orphan"])
        XCTAssertTrue(eventually { !self.exists("default", "parent") })
        let child = cluster.request("GET", "/api/v1/namespaces/default/configmaps/child").json
        XCTAssertEqual(child.at("metadata", "name"), "child")
        XCTAssertNil(child.at("metadata", "ownerReferences"))
    }

    func testForegroundDeletionWaitsForBlockingDependents() {
        let parent = create("default", "parent")
        _ = create("default", "child", owner: parent, finalizers: ["example.com/hold"])
        let deleted = cluster.request("DELETE", "/api/v1/namespaces/default/configmaps/parent?propagationPolicy=Foreground")
        XCTAssertEqual(deleted.json.at("metadata", "finalizers"), ["foregroundDeletion"])
        XCTAssertTrue(eventually { self.cluster.request("GET", "/api/v1/namespaces/default/configmaps/child").json.at("metadata", "deletionTimestamp") != nil })
        XCTAssertTrue(exists("default", "parent"), "the owner stays while a blocking dependent exists")
        let released = cluster.request("PATCH", "/api/v1/namespaces/default/configmaps/child", json: ["metadata": ["finalizers": .null]],
                                       contentType: "application/merge-patch+json")
        XCTAssertEqual(released.status, 200, released.text)
        XCTAssertTrue(eventually { !self.exists("default", "child") && !self.exists("default", "parent") })
    }

    func testAnOwnerInAnotherNamespaceIsAbsent() {
        cluster.createNamespace("a")
        cluster.createNamespace("b")
        let owner = create("a", "owner")
        _ = create("b", "stray", owner: owner)
        XCTAssertTrue(eventually { !self.exists("b", "stray") }, "the owner is looked up in the dependent's namespace, so it is absent")
        XCTAssertTrue(exists("a", "owner"))
        XCTAssertTrue(eventually {
            let events = self.cluster.request("GET", "/api/v1/namespaces/b/events").json["items"]?.arrayValue ?? []
            return events.contains { $0["reason"] == "OwnerRefInvalidNamespace" && $0.at("involvedObject", "name") == "stray" }
        })
    }

    func testAClusterScopedDependentOfANamespacedOwnerIsNeverCollected() {
        let owner = create("default", "owner")
        let role: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": ["name": "dependent", "ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                                                                  "uid": owner.at("metadata", "uid") ?? ""]]], "rules": []]
        XCTAssertEqual(cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", json: role).status, 201)
        XCTAssertTrue(eventually {
            let events = self.cluster.request("GET", "/api/v1/namespaces/default/events").json["items"]?.arrayValue ?? []
            return events.contains { $0["reason"] == "OwnerRefInvalidNamespace" && $0.at("involvedObject", "name") == "dependent" }
        })
        XCTAssertEqual(cluster.request("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/dependent").status, 200)
    }
}
