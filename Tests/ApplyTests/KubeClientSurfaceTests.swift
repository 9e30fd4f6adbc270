import Apply
import ApplyTestSupport
import Foundation
import LocalCluster
import Model
import Synchronization
import TestKit
import XCTest

/// The calls the controllers need beyond apply: create, delete with a propagation policy, the status
/// subresource, and watch (typed events, bookmarks, 410 answered by a relist), against the local cluster.
final class KubeClientSurfaceTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    private func configMap(_ name: String, _ value: String = "v") -> JSONObject {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"], "data": ["k": .string(value)]]
    }

    private func reference(_ name: String, kind: String = "ConfigMap", apiVersion: String = "v1") -> ObjectReference {
        ObjectReference(apiVersion: apiVersion, kind: kind, namespace: "default", name: name)
    }

    func testCreateStoresTheObjectAndADuplicateIsAlreadyExists() throws {
        let client = try cluster.client()
        let created = try client.create(configMap("made"))
        XCTAssertEqual(created["data"]?["k"], "v")
        XCTAssertNotNil(created["metadata"]?["uid"]?.stringValue)
        XCTAssertNotNil(try client.get(reference("made")))

        XCTAssertThrowsError(try client.create(configMap("made", "other"))) { error in
            let kube = error as? KubeError
            XCTAssertEqual(kube?.isAlreadyExists, true, "\(error)")
            XCTAssertEqual(kube?.status?.reason, "AlreadyExists")
            XCTAssertEqual("\(error)", "ConfigMap/default/made create failed: Error from server (AlreadyExists): configmaps \"made\" already exists")
        }
        XCTAssertEqual(try client.get(reference("made"))?["data"]?["k"], "v", "the refused create changed nothing")

        let dryRun = try client.create(configMap("dry"), dryRun: true)
        XCTAssertEqual(dryRun["metadata"]?["name"], "dry")
        XCTAssertNil(try client.get(reference("dry")), "a dry-run create stores nothing")
    }

    func testDeleteTakesEachPropagationPolicyAndReportsWhatWasGone() throws {
        let client = try cluster.client()
        for policy in PropagationPolicy.allCases {
            let name = "gone-\(policy.rawValue.lowercased())"
            _ = try client.create(configMap(name))
            XCTAssertTrue(try client.delete(reference(name), propagationPolicy: policy), "\(policy)")
            // Foreground and Orphan leave the object for the garbage collector to finish (its finalizer) a moment later.
            try eventually("\(name) is gone") { try client.get(reference(name)) == nil }
            XCTAssertFalse(try client.delete(reference(name), propagationPolicy: policy), "already gone: \(policy)")
        }
    }

    func testStatusPatchMergesIntoStatusOnly() throws {
        let client = try cluster.client()
        let crd: JSONObject = [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
            "spec": ["group": "example.com", "scope": "Namespaced",
                     "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
                     "versions": [["name": "v1", "served": true, "storage": true, "subresources": ["status": [:]],
                                   "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
        ]
        _ = try client.apply(crd)
        try eventually("the Widget kind is served") {
            client.invalidateDiscovery()
            return (try? client.resource(apiVersion: "example.com/v1", kind: "Widget")) != nil
        }
        let widget = reference("w", kind: "Widget", apiVersion: "example.com/v1")
        _ = try client.create(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w", "namespace": "default"], "spec": ["size": 1]])

        let running = try client.patchStatus(widget, status: ["phase": "Running"])
        XCTAssertEqual(running["status"]?["phase"], "Running")
        let ready = try client.patchStatus(widget, status: ["ready": true])
        XCTAssertEqual(ready["status"]?["phase"], "Running", "a merge patch keeps the keys it does not name")
        XCTAssertEqual(ready["status"]?["ready"], true)
        XCTAssertEqual(ready["spec"]?["size"], 1, "the spec is untouched")
        let cleared = try client.patchStatus(widget, status: ["ready": .null])
        XCTAssertNil(cleared["status"]?["ready"], "null removes a key")

        XCTAssertThrowsError(try client.patchStatus(reference("no-such-widget", kind: "Widget", apiVersion: "example.com/v1"), status: ["phase": "x"])) {
            XCTAssertEqual(($0 as? KubeError)?.isNotFound, true, "\($0)")
        }
        _ = try client.create(configMap("plain"))
        XCTAssertThrowsError(try client.patchStatus(reference("plain"), status: ["phase": "x"]), "a ConfigMap serves no status subresource") {
            XCTAssertEqual(($0 as? KubeError)?.status?.code, 404, "\($0)")
        }
    }

    func testWatchDeliversTypedEventsInOrderThenABookmark() throws {
        let client = try cluster.client()
        let start = try client.listWithVersion(apiVersion: "v1", kind: "ConfigMap", namespace: "default").resourceVersion
        let events = Mutex<[WatchEvent]>([])
        let finished = DispatchSemaphore(value: 0)
        let watcher = try cluster.client()
        Thread.detachNewThread {
            defer { finished.signal() }
            do {
                try watcher.watch(apiVersion: "v1", kind: "ConfigMap", namespace: "default", resourceVersion: start, timeoutSeconds: 1) { event in
                    events.withLock { $0.append(event) }
                    // Stop at the first bookmark after the deletion.
                    if case .bookmark = event { return !events.withLock { $0.contains { if case .deleted = $0 { true } else { false } } } }
                    return true
                }
            } catch {
                XCTFail("watch failed: \(error)")
            }
        }
        _ = try client.create(configMap("watched"))
        _ = try client.apply(configMap("watched", "changed"))
        XCTAssertTrue(try client.delete(reference("watched")))
        XCTAssertEqual(finished.wait(timeout: .now() + 120), .success, "the watch ends at the bookmark after the deletion")

        let seen = events.withLock { $0 }
        let changes = seen.filter { if case .bookmark = $0 { false } else { true } }
        XCTAssertEqual(changes.count, 3, "\(seen)")
        guard changes.count == 3 else { return }
        guard case .added(let added) = changes[0], case .modified(let modified) = changes[1], case .deleted = changes[2] else {
            return XCTFail("expected added, modified, deleted: \(changes)")
        }
        XCTAssertEqual(added["data"]?["k"], "v")
        XCTAssertEqual(modified["data"]?["k"], "changed")
        let versions = changes.compactMap { Int($0.resourceVersion) }
        XCTAssertEqual(versions, versions.sorted(), "resourceVersions grow")
        XCTAssertEqual(Set(versions).count, 3)
        guard case .bookmark(let mark) = seen.last else { return XCTFail("ends with a bookmark: \(seen)") }
        XCTAssertGreaterThanOrEqual(Int(mark) ?? 0, versions.last ?? .max, "the bookmark is at or past the last change")
    }

    func testAWatchFromACompactedVersionRelistsAndGoesOn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-410-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = LocalClusterServer.Options()
        options.eventRetention = 3
        let server = try LocalClusterServer.start(directory: directory, options: options)
        defer { server.stop() }
        let client = KubeClient(config: try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve())
        let old = try client.listWithVersion(apiVersion: "v1", kind: "ConfigMap", namespace: "default").resourceVersion
        for index in 0..<10 { _ = try client.create(configMap("cm-\(index)")) }

        let events = Mutex<[WatchEvent]>([])
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { finished.signal() }
            do {
                try client.watch(apiVersion: "v1", kind: "ConfigMap", namespace: "default", resourceVersion: old, timeoutSeconds: 5) { event in
                    events.withLock { $0.append(event) }
                    if case .added(let object) = event, object["metadata"]?["name"] == "after-relist" { return false }
                    return true
                }
            } catch {
                XCTFail("watch failed: \(error)")
            }
        }
        try eventually("the expired watch relists") { events.withLock { $0.contains { if case .relisted = $0 { true } else { false } } } }
        _ = try client.create(configMap("after-relist"))
        XCTAssertEqual(finished.wait(timeout: .now() + 120), .success, "the watch goes on after the relist and sees the next create")

        let seen = events.withLock { $0 }
        guard case .relisted(let items, let version) = seen.first else { return XCTFail("first the relist: \(seen)") }
        XCTAssertEqual(Set(items.compactMap { $0["metadata"]?["name"]?.stringValue }), Set((0..<10).map { "cm-\($0)" }))
        XCTAssertGreaterThan(Int(version) ?? 0, Int(old) ?? .max, "the relist's version is the current one")
        guard case .added(let added) = seen.last else { return XCTFail("then the create: \(seen)") }
        XCTAssertEqual(added["metadata"]?["name"], "after-relist")
    }
}
