import Apply
import ApplyTestSupport
import Foundation
import Model
import XCTest

/// The staged apply engine against the local cluster through real HTTPS.
final class ResourceManagerApplyTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    func exampleObjects() throws -> [JSONObject] {
        try Examples.rendered().manifests.map(\.object)
    }

    func testFirstApplyOfTheExamplesCreatesEveryObjectInStages() throws {
        let manager = ResourceManager(client: try cluster.client())
        let objects = try exampleObjects()
        let stages = StageLog()
        let changes = manager.applyAllStaged(objects) { stages.record($0) }
        XCTAssertEqual(changes.failures, [])
        XCTAssertEqual(changes.count(.created), objects.count)
        XCTAssertEqual(changes.changes.map(\.object), objects.map { Manifest(owner: "", object: $0).reference }, "the change set keeps the input order")
        XCTAssertEqual(stages.names, ["definitions", "cluster-scoped", "namespaced"])
        XCTAssertEqual(changes.changes.first?.description, "CustomResourceDefinition/namespacepolicies.ambient.ai created")
        // The custom resources (NamespacePolicy) went in the same run as their CRD.
        let policies = try manager.client.list(apiVersion: "ambient.ai/v1alpha1", kind: "NamespacePolicy")
        XCTAssertEqual(policies.count, 4)
        XCTAssertEqual(policies.first?["metadata"]?["labels"]?["app.kubernetes.io/managed-by"], "tenantry")
    }

    func testACustomResourceListedBeforeItsCRDIsAppliedAfterItInOneRun() throws {
        var crd = KubeClientTests.widgetCRD
        crd = Fixture.stamp(crd, owner: "team")
        let widget = Fixture.stamp(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w1", "namespace": "default"],
                                    "spec": ["size": 3]], owner: "team")
        let manager = ResourceManager(client: try cluster.client())
        let changes = manager.applyAllStaged([widget, crd])
        XCTAssertEqual(changes.changes.map(\.description), ["Widget/default/w1 created", "CustomResourceDefinition/widgets.example.com created"])
        XCTAssertEqual(try manager.client.get(Manifest(owner: "", object: widget).reference)?["spec"]?["size"], 3)
        XCTAssertEqual(manager.applyAllStaged([widget, crd]).count(.unchanged), 2)
    }

    func testReapplyingUnchangedObjectsWritesNothingAndListsOncePerKind() throws {
        let objects = try exampleObjects()
        _ = ResourceManager(client: try cluster.client()).applyAllStaged(objects)
        let before = try cluster.latestResourceVersion()

        let client = try cluster.client()
        let changes = ResourceManager(client: client).applyAllStaged(objects)
        XCTAssertEqual(changes.count(.unchanged), objects.count, changes.summary)
        XCTAssertEqual(client.requestCounts.writes, 0)
        XCTAssertEqual(client.requestCounts.dryRuns, 0)
        let kinds = Set(objects.map { KindKey(Manifest(owner: "", object: $0).reference) }).count
        let groupVersions = Set(objects.compactMap { $0["apiVersion"]?.stringValue }).count
        XCTAssertEqual(client.requestCounts.reads, kinds + groupVersions, "one list per kind plus one discovery per group version")
        XCTAssertEqual(try cluster.latestResourceVersion(), before, "the server stored nothing")
    }

    func testAChangedFieldReappliesOnlyThatObject() throws {
        var objects = [Fixture.configMap("a", namespace: "default"), Fixture.configMap("b", namespace: "default")]
        _ = ResourceManager(client: try cluster.client()).applyAllStaged(objects)
        objects[1] = Fixture.configMap("b", namespace: "default", data: ["k": "new"])
        let client = try cluster.client()
        let changes = ResourceManager(client: client).applyAllStaged(objects)
        XCTAssertEqual(changes.changes.map(\.description), ["ConfigMap/default/a unchanged", "ConfigMap/default/b configured"])
        XCTAssertEqual(client.requestCounts.writes, 1)
        XCTAssertEqual(try client.get(Manifest(owner: "", object: objects[1]).reference)?["data"]?["k"], "new")
    }

    func testAHandEditIsDetectedByDiffAndCorrectedByTheNextApply() throws {
        let object = Fixture.configMap("settings", namespace: "default", data: ["mode": "safe", "level": "1"])
        let manager = ResourceManager(client: try cluster.client())
        _ = manager.applyAllStaged([object])

        // Someone edits a field Tenantry owns by hand, with kubectl (a merge patch: field manager kubectl-patch).
        let edit = Kubectl.run(["--kubeconfig", cluster.kubeconfigPath, "patch", "configmap", "settings", "-n", "default",
                                "--type", "merge", "-p", #"{"data":{"mode":"unsafe"}}"#])
        XCTAssertEqual(edit.status, 0, edit.stderr)

        let diffs = manager.diff([object])
        XCTAssertEqual(diffs.map(\.action), [.configured])
        XCTAssertEqual(diffs.first?.fields, [FieldChange(path: ".data.mode", before: "\"unsafe\"", after: "\"safe\"")])
        XCTAssertEqual(diffs.first?.rendered(color: false), """
            ConfigMap/default/settings configured
              - .data.mode: "unsafe"
              + .data.mode: "safe"

            """)

        let changes = manager.applyAllStaged([object])
        XCTAssertEqual(changes.changes.map(\.action), [.configured])
        XCTAssertTrue(changes.changes[0].message.contains("drift corrected: .data.mode"), changes.changes[0].message)
        XCTAssertEqual(try manager.client.get(Manifest(owner: "", object: object).reference)?["data"]?["mode"], "safe")
        XCTAssertEqual(manager.diff([object]).map(\.action), [.unchanged])
    }

    func testAConflictWithAnotherApplierIsReportedThenTakenOverWithForce() throws {
        let object = Fixture.configMap("shared", namespace: "default", data: ["owner": "tenantry"])
        let manager = ResourceManager(client: try cluster.client())
        _ = manager.applyAllStaged([object])
        // Another declarative tool applies the same field with its own value.
        let other = try cluster.client(fieldManager: "argocd")
        var theirs = object
        theirs["data"] = ["owner": "argocd"]
        _ = try other.apply(theirs, force: true)

        let refused = manager.applyAllStaged([object])
        XCTAssertEqual(refused.changes.map(\.action), [.failed])
        XCTAssertTrue(refused.changes[0].message.contains("conflict with \"argocd\""), refused.changes[0].message)
        XCTAssertTrue(refused.changes[0].message.contains("--force-conflicts"), refused.changes[0].message)

        let forced = manager.applyAllStaged([object], options: ApplyOptions(force: true))
        XCTAssertEqual(forced.changes.map(\.action), [.configured])
        XCTAssertEqual(try manager.client.get(Manifest(owner: "", object: object).reference)?["data"]?["owner"], "tenantry")
    }

    func testDryRunStoresNothingAndStillReportsWhatWouldHappen() throws {
        let objects = try exampleObjects()
        let before = try cluster.latestResourceVersion()
        let client = try cluster.client()
        let changes = ResourceManager(client: client).applyAllStaged(objects, options: ApplyOptions(dryRun: true))
        XCTAssertEqual(changes.failures, [])
        XCTAssertEqual(changes.count(.created), objects.count)
        let policy = changes.changes.first { $0.object.kind == "NamespacePolicy" }
        XCTAssertEqual(policy?.message, "not checked by the server: its CustomResourceDefinition is created by this apply")
        let account = changes.changes.first { $0.object.kind == "ServiceAccount" }
        XCTAssertEqual(account?.message, "not checked by the server: its namespace docs is created by this apply")
        XCTAssertEqual(client.requestCounts.writes, 0)
        XCTAssertEqual(try cluster.latestResourceVersion(), before)
    }

    func testSecretValuesAreMaskedInDiffs() throws {
        let manager = ResourceManager(client: try cluster.client())
        _ = manager.applyAllStaged([Fixture.secret("api", namespace: "default", data: ["token": "hunter2"])])
        let diffs = manager.diff([Fixture.secret("api", namespace: "default", data: ["token": "correct-horse"])])
        let text = diffs.map { $0.rendered(color: false) }.joined()
        XCTAssertFalse(text.contains("hunter2"), text)
        XCTAssertFalse(text.contains("correct-horse"), text)
        XCTAssertFalse(text.contains(Data("hunter2".utf8).base64EncodedString()), text)
        XCTAssertTrue(text.contains("*** (before)") && text.contains("*** (after)"), text)
    }

    func testASecretWrittenAsStringDataIsUnchangedOnReapply() throws {
        let secret = Fixture.secret("api", namespace: "default", data: ["token": "hunter2"])
        _ = ResourceManager(client: try cluster.client()).applyAllStaged([secret])
        let client = try cluster.client()
        let changes = ResourceManager(client: client).applyAllStaged([secret])
        XCTAssertEqual(changes.changes.map(\.action), [.unchanged])
        XCTAssertEqual(client.requestCounts.writes, 0)
        XCTAssertEqual(client.requestCounts.dryRuns, 0, "stringData is compared as the base64 data the server stores")
    }

    func testDeleteNeverTouchesObjectsWithoutTheManagedByLabel() throws {
        let client = try cluster.client()
        var foreign = Fixture.configMap("foreign", namespace: "default")
        foreign["metadata"] = ["name": "foreign", "namespace": "default"]
        _ = try client.apply(foreign)
        _ = try client.apply(Fixture.configMap("ours", namespace: "default"))
        let manager = ResourceManager(client: client)
        let refs = [foreign, Fixture.configMap("ours", namespace: "default"), Fixture.configMap("gone", namespace: "default")].map { Manifest(owner: "", object: $0).reference }
        let changes = manager.deleteAll(refs)
        XCTAssertEqual(changes.changes.map(\.description), ["ConfigMap/default/foreign skipped", "ConfigMap/default/gone skipped", "ConfigMap/default/ours deleted"])
        XCTAssertTrue(changes.changes[0].message.contains("lacks the app.kubernetes.io/managed-by=tenantry label"))
        XCTAssertNotNil(try client.get(refs[0]))
        XCTAssertNil(try client.get(refs[1]))
    }

    func testInjectedThrottlingAndServerErrorsDuringApplyAreRetried() throws {
        let client = try cluster.client()
        cluster.faults.inject(.tooManyRequests(retryAfterSeconds: 1), times: 1)
        cluster.faults.inject(.internalError, times: 2)
        let objects = (0..<5).map { Fixture.configMap("cm-\($0)", namespace: "default") }
        let changes = ResourceManager(client: client).applyAllStaged(objects)
        XCTAssertEqual(changes.count(.created), 5, changes.changes.map(\.message).joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(client.requestCounts.retries, 2)
    }
}

final class StageLog: @unchecked Sendable {
    // Unchecked: `names` is appended under `lock`.
    private let lock = NSLock()
    private var recorded: [String] = []
    func record(_ progress: StageProgress) { lock.withLock { recorded.append(progress.stage.rawValue) } }
    var names: [String] { lock.withLock { recorded } }
}
