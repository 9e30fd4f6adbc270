import Foundation
import Model
import XCTest

final class ListAndWatchTests: XCTestCase {
    var cluster: TestCluster!
    let collection = "/api/v1/namespaces/default/configmaps"

    override func setUpWithError() throws { cluster = try TestCluster(eventRetention: 64) }
    override func tearDown() { cluster.stop() }

    private func names(_ response: TestResponse) -> [String] {
        response.json["items"]?.arrayValue?.compactMap { $0.at("metadata", "name")?.stringValue } ?? []
    }

    func testLabelSelectorsEqualityAndSetBased() {
        cluster.request("POST", collection, json: configMap("a", labels: ["tier": "web", "env": "prod"]))
        cluster.request("POST", collection, json: configMap("b", labels: ["tier": "db", "env": "prod"]))
        cluster.request("POST", collection, json: configMap("c", labels: ["tier": "web"]))
        XCTAssertEqual(names(cluster.request("GET", collection + "?labelSelector=tier%3Dweb")), ["a", "c"])
        XCTAssertEqual(names(cluster.request("GET", collection + "?labelSelector=tier!%3Dweb")), ["b"])
        XCTAssertEqual(names(cluster.request("GET", collection + "?labelSelector=tier%20in%20(db,cache)")), ["b"])
        XCTAssertEqual(names(cluster.request("GET", collection + "?labelSelector=tier%20notin%20(db),env")), ["a"])
        XCTAssertEqual(names(cluster.request("GET", collection + "?labelSelector=!env")), ["c"])
        XCTAssertEqual(cluster.request("GET", collection + "?labelSelector=tier%20in%20db").status, 400)
    }

    func testFieldSelectorsOnNameAndNamespace() {
        cluster.createNamespace("other")
        cluster.request("POST", collection, json: configMap("x"))
        cluster.request("POST", "/api/v1/namespaces/other/configmaps", json: configMap("x"))
        cluster.request("POST", collection, json: configMap("y"))
        XCTAssertEqual(names(cluster.request("GET", collection + "?fieldSelector=metadata.name%3Dx")), ["x"])
        XCTAssertEqual(names(cluster.request("GET", "/api/v1/configmaps?fieldSelector=metadata.namespace%3Dother")), ["x"])
        XCTAssertEqual(names(cluster.request("GET", "/api/v1/configmaps?fieldSelector=metadata.name!%3Dx")), ["y"])
        XCTAssertEqual(cluster.request("GET", collection + "?fieldSelector=spec.nodeName%3Dn").status, 400)
    }

    func testPagingWithLimitAndContinue() {
        for index in 0..<7 { cluster.request("POST", collection, json: configMap("cm-\(index)")) }
        var seen: [String] = []
        var token = ""
        var pages = 0
        repeat {
            let page = cluster.request("GET", collection + "?limit=3" + (token.isEmpty ? "" : "&continue=\(token)"))
            XCTAssertEqual(page.status, 200, page.text)
            seen += names(page)
            token = page.json.at("metadata", "continue")?.stringValue?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            pages += 1
        } while !token.isEmpty && pages < 10
        XCTAssertEqual(seen, (0..<7).map { "cm-\($0)" })
        XCTAssertEqual(pages, 3)
    }

    func testExpiredContinueTokenIsGone() {
        for index in 0..<3 { cluster.request("POST", collection, json: configMap("cm-\(index)")) }
        let first = cluster.request("GET", collection + "?limit=1")
        let token = first.json.at("metadata", "continue")?.stringValue?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        XCTAssertFalse(token.isEmpty)
        // Enough writes to push the token's version out of the kept history (64 events).
        for index in 0..<140 { cluster.request("PUT", collection + "/cm-0", json: configMap("cm-0", data: ["n": .string("\(index)")])) }
        let gone = cluster.request("GET", collection + "?limit=1&continue=\(token)")
        XCTAssertEqual(gone.status, 410, gone.text)
        XCTAssertEqual(gone.json["reason"], "Expired")
        XCTAssertEqual(cluster.request("GET", collection + "?limit=1&continue=garbage").status, 400)
    }

    func testWatchStreamsAddedModifiedDeletedFromAVersion() {
        let list = cluster.request("GET", collection)
        let version = list.json.at("metadata", "resourceVersion")?.stringValue ?? ""
        let watch = cluster.watch(collection + "?watch=1&resourceVersion=\(version)")
        defer { watch.close() }
        cluster.request("POST", collection, json: configMap("w"))
        cluster.request("PUT", collection + "/w", json: configMap("w", data: ["k": "2"]))
        cluster.request("POST", "/api/v1/namespaces/kube-system/configmaps", json: configMap("elsewhere"))
        cluster.request("DELETE", collection + "/w")
        let events = (0..<3).compactMap { _ in watch.next() }
        XCTAssertEqual(events.map(\.type), ["ADDED", "MODIFIED", "DELETED"])
        XCTAssertEqual(events.map { $0.object.at("metadata", "name")?.stringValue ?? "" }, ["w", "w", "w"])
        XCTAssertEqual(events[1].object.at("data", "k"), "2")
        XCTAssertEqual(watch.status, 200)
    }

    func testWatchWithoutVersionStartsWithCurrentObjectsAndFilters() {
        cluster.request("POST", collection, json: configMap("old", labels: ["app": "x"]))
        cluster.request("POST", collection, json: configMap("other", labels: ["app": "y"]))
        let watch = cluster.watch(collection + "?watch=true&labelSelector=app%3Dx")
        defer { watch.close() }
        let first = watch.next()
        XCTAssertEqual(first?.type, "ADDED")
        XCTAssertEqual(first?.object.at("metadata", "name"), "old")
        cluster.request("POST", collection, json: configMap("skipped", labels: ["app": "y"]))
        cluster.request("POST", collection, json: configMap("new", labels: ["app": "x"]))
        let second = watch.next()
        XCTAssertEqual(second?.object.at("metadata", "name"), "new")
    }

    func testObjectsEnteringAndLeavingASelectorAreAddedAndDeleted() {
        cluster.request("POST", collection, json: configMap("moving"))
        let version = cluster.request("GET", collection).json.at("metadata", "resourceVersion")?.stringValue ?? ""
        let watch = cluster.watch(collection + "?watch=1&labelSelector=app%3Dx&resourceVersion=\(version)")
        defer { watch.close() }
        let patch = { (labels: JSON) in
            self.cluster.request("PATCH", self.collection + "/moving", json: ["metadata": ["labels": labels]], contentType: "application/merge-patch+json")
        }
        XCTAssertEqual(patch(["app": "x"]).status, 200)
        XCTAssertEqual(patch(["app": "x", "more": "1"]).status, 200)
        XCTAssertEqual(patch(["app": nil]).status, 200)
        XCTAssertEqual((0..<3).compactMap { _ in watch.next()?.type }, ["ADDED", "MODIFIED", "DELETED"])
    }

    func testWatchEndsAfterTimeoutSeconds() {
        let watch = cluster.watch(collection + "?watch=1&resourceVersion=1&timeoutSeconds=1")
        defer { watch.close() }
        XCTAssertNil(watch.next(), "the server closes the stream once timeoutSeconds have passed")
        XCTAssertEqual(watch.status, 200)
    }

    func testDeleteCollectionBySelector() {
        cluster.request("POST", collection, json: configMap("a", labels: ["batch": "1"]))
        cluster.request("POST", collection, json: configMap("b", labels: ["batch": "1"]))
        cluster.request("POST", collection, json: configMap("c", labels: ["batch": "2"]))
        let deleted = cluster.request("DELETE", collection + "?labelSelector=batch%3D1")
        XCTAssertEqual(deleted.status, 200, deleted.text)
        XCTAssertEqual(names(deleted), ["a", "b"])
        XCTAssertEqual(names(cluster.request("GET", collection)), ["c"])
    }

    func testWatchFromACompactedVersionGetsGone() {
        for index in 0..<140 { cluster.request("POST", collection, json: configMap("cm-\(index)")) }
        let watch = cluster.watch(collection + "?watch=1&resourceVersion=2")
        defer { watch.close() }
        let event = watch.next()
        XCTAssertEqual(event?.type, "ERROR")
        XCTAssertEqual(event?.object["code"], 410)
        XCTAssertEqual(event?.object["reason"], "Expired")
        XCTAssertNil(watch.next())
    }
}
