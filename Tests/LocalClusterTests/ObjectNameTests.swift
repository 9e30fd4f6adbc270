import Foundation
import LocalCluster
import Model
import XCTest

/// Names are checked per kind as Kubernetes checks them.
final class ObjectNameTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    func testRBACObjectsAreNamedByPathSegmentOthersByDNSRules() {
        let role: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "tenantry:admin"], "rules": []]
        XCTAssertEqual(cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", json: role).status, 201)
        let slash: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "a/b"], "rules": []]
        let refused = cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", json: slash)
        XCTAssertEqual(refused.status, 422, refused.text)
        XCTAssertEqual(refused.json["reason"], "Invalid")
        let configMap: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "tenantry:admin"]]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap).status, 422)
    }
}
