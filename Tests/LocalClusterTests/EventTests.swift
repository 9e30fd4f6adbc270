import Foundation
import Model
import XCTest

/// Events in both APIs over one store, selected by what they are about.
final class EventTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster?.stop() }

    private func coreEvent(_ name: String, about object: String, kind: String = "ConfigMap", uid: String = "u1", reason: String = "Synced") -> JSON {
        ["apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
         "involvedObject": ["apiVersion": "v1", "kind": .string(kind), "name": .string(object), "namespace": "default", "uid": .string(uid)],
         "reason": .string(reason), "message": "done", "type": "Normal", "source": ["component": "tenantry"], "count": 1]
    }

    private func names(_ response: TestResponse) -> [String] {
        response.json["items"]?.arrayValue?.compactMap { $0.at("metadata", "name")?.stringValue } ?? []
    }

    func testInvolvedObjectFieldSelectors() {
        for (name, object, kind, uid) in [("a.1", "a", "ConfigMap", "u1"), ("a.2", "a", "Secret", "u2"), ("b.1", "b", "ConfigMap", "u3")] {
            let created = cluster.request("POST", "/api/v1/namespaces/default/events", json: coreEvent(name, about: object, kind: kind, uid: uid))
            XCTAssertEqual(created.status, 201, created.text)
        }
        let path = "/api/v1/namespaces/default/events?fieldSelector="
        XCTAssertEqual(names(cluster.request("GET", path + "involvedObject.name%3Da,involvedObject.kind%3DConfigMap")), ["a.1"])
        XCTAssertEqual(names(cluster.request("GET", path + "involvedObject.uid%3Du2")), ["a.2"])
        XCTAssertEqual(names(cluster.request("GET", path + "involvedObject.kind!%3DConfigMap")), ["a.2"])
        XCTAssertEqual(names(cluster.request("GET", path + "involvedObject.namespace%3Ddefault,source%3Dtenantry")).count, 3)
        let unsupported = cluster.request("GET", path + "involvedObject.color%3Dred")
        XCTAssertEqual(unsupported.status, 400)
        XCTAssertTrue(unsupported.json["message"]?.stringValue?.hasPrefix("field label not supported: involvedObject.color") == true, unsupported.text)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=involvedObject.name%3Da").status, 400)
    }

    func testEventsAPIIsTheSameStoreConverted() {
        let modern: JSON = ["apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "m.1"],
                            "regarding": ["kind": "ConfigMap", "name": "a", "namespace": "default"], "note": "checked", "reason": "Checked",
                            "type": "Warning", "eventTime": "2026-12-01T09:10:00.000000Z", "reportingController": "tenantry.dev/controller",
                            "reportingInstance": "tenantry-0", "action": "Check"]
        let created = cluster.request("POST", "/apis/events.k8s.io/v1/namespaces/default/events", json: modern)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json["note"], "checked")
        let core = cluster.request("GET", "/api/v1/namespaces/default/events/m.1").json
        XCTAssertEqual(core["apiVersion"], "v1")
        XCTAssertEqual(core["message"], "checked")
        XCTAssertEqual(core.at("involvedObject", "name"), "a")
        XCTAssertEqual(core["reportingComponent"], "tenantry.dev/controller")
        XCTAssertNil(core["regarding"])

        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/events", json: coreEvent("c.1", about: "b")).status, 201)
        let selected = cluster.request("GET", "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3Db")
        XCTAssertEqual(names(selected), ["c.1"])
        XCTAssertEqual(selected.json["items"]?.arrayValue?.first?["note"], "done")
        XCTAssertEqual(selected.json["items"]?.arrayValue?.first?["apiVersion"], "events.k8s.io/v1")
    }

    func testWatchWithAnInvolvedObjectSelector() {
        let watch = cluster.watch("/apis/events.k8s.io/v1/namespaces/default/events?watch=1&fieldSelector=regarding.name%3Dwatched")
        defer { watch.close() }
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/events", json: coreEvent("other.1", about: "other")).status, 201)
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/events", json: coreEvent("watched.1", about: "watched")).status, 201)
        let event = watch.next()
        XCTAssertEqual(event?.type, "ADDED")
        XCTAssertEqual(event?.object.at("metadata", "name"), "watched.1")
        XCTAssertEqual(event?.object.at("regarding", "name"), "watched")
    }
}
