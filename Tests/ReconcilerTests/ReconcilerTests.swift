import Apply
import ApplyTestSupport
import Foundation
import Model
import Reconciler
import Render
import Synchronization
import XCTest

/// Render results → apply → prune → inventory, against the local cluster through real HTTPS.
final class ReconcilerTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    /// The example tenants as the reconciler receives them.
    func examples() throws -> [OwnedObjects] {
        Reconciler.desired(try Examples.rendered())
    }

    func reconciler() throws -> Reconciler { Reconciler(client: try cluster.client()) }

    func removing(_ kind: String, named name: String, namespace: String, from desired: [OwnedObjects]) -> [OwnedObjects] {
        desired.map { entry in
            OwnedObjects(owner: entry.owner, manifests: entry.manifests.filter {
                !($0.reference.kind == kind && $0.reference.name == name && $0.reference.namespace == namespace)
            })
        }
    }

    func testFirstReconcileAppliesEverythingAndRecordsAnInventoryPerOwner() throws {
        let desired = try examples()
        let result = try reconciler().reconcile(desired, frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
        XCTAssertEqual(result.changes.count(.created), desired.flatMap(\.manifests).count)
        let inventories = try InventoryStore(client: try cluster.client()).load()
        XCTAssertEqual(inventories.keys.sorted(), ["docs", "payments", "support", "tenantry.platform"])
        XCTAssertEqual(inventories["docs"]?.objects, Set(desired.first { $0.owner == "docs" }!.manifests.map(\.reference)))
        XCTAssertEqual(result.changes(of: "docs").changes.count, desired.first { $0.owner == "docs" }!.manifests.count)
    }

    func testANoOpReconcileWritesNothingAtTheServer() throws {
        let desired = try examples()
        _ = try reconciler().reconcile(desired, frozen: [])
        let before = try cluster.latestResourceVersion()
        let client = try cluster.client()
        let result = Reconciler(client: client).reconcile(desired, frozen: [])
        XCTAssertEqual(result.changes.count(.unchanged), desired.flatMap(\.manifests).count, result.changes.summary)
        XCTAssertEqual(client.requestCounts.writes, 0, "\(client.requestCounts)")
        XCTAssertEqual(client.requestCounts.dryRuns, 0)
        XCTAssertEqual(try cluster.latestResourceVersion(), before, "no object or inventory was stored")
    }

    func testAnObjectThatLeftGitIsPrunedAndForgotten() throws {
        let desired = try examples()
        _ = try reconciler().reconcile(desired, frozen: [])
        let fewer = removing("NetworkPolicy", named: "allow-dns", namespace: "docs", from: desired)
        let result = try reconciler().reconcile(fewer, frozen: [])
        let gone = ObjectReference(apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", namespace: "docs", name: "allow-dns")
        XCTAssertEqual(result.changes.changes.filter { $0.action != .unchanged }.map(\.description), ["NetworkPolicy/docs/allow-dns deleted"])
        XCTAssertEqual(result.owners[gone], "docs")
        XCTAssertNil(try cluster.client().get(gone))
        XCTAssertFalse(try InventoryStore(client: try cluster.client()).load()["docs"]!.objects.contains(gone))
        XCTAssertEqual(try reconciler().reconcile(fewer, frozen: []).changes.count(.deleted), 0)
    }

    func testABrokenTenantIsNeitherAppliedNorPruned() throws {
        let desired = try examples()
        _ = try reconciler().reconcile(desired, frozen: [])
        let before = try InventoryStore(client: try cluster.client()).load()["docs"]
        // docs' file no longer validates: Render gives no objects for it, and the tenant is frozen.
        let broken = desired.filter { $0.owner != "docs" }
        let result = try reconciler().reconcile(broken, frozen: ["docs"])
        XCTAssertEqual(result.invalidTenants, ["docs"])
        XCTAssertEqual(result.pruneRefusals, [])
        XCTAssertEqual(result.changes.count(.deleted), 0)
        XCTAssertNotNil(try cluster.client().get(ObjectReference(apiVersion: "v1", kind: "ServiceAccount", namespace: "docs", name: "session-runner")))
        XCTAssertEqual(try InventoryStore(client: try cluster.client()).load()["docs"], before)
        XCTAssertFalse(result.succeeded)
    }

    func testATenantThatRendersNothingTripsTheMassPruneGuardUntilAllowed() throws {
        let desired = try examples()
        _ = try reconciler().reconcile(desired, frozen: [])
        let withoutDocs = desired.filter { $0.owner != "docs" }
        let refused = try reconciler().reconcile(withoutDocs, frozen: [])
        XCTAssertEqual(refused.pruneRefusals.count, 1)
        XCTAssertTrue(refused.pruneRefusals[0].description.hasPrefix("prune refused: docs rendered no objects but 13 are recorded for it"), refused.pruneRefusals[0].description)
        XCTAssertTrue(refused.pruneRefusals[0].description.contains("--allow-mass-prune"))
        XCTAssertEqual(refused.changes.count(.deleted), 0)
        XCTAssertNotNil(try cluster.client().get(ObjectReference(apiVersion: "v1", kind: "ServiceAccount", namespace: "docs", name: "session-runner")))

        let allowed = try reconciler().reconcile(withoutDocs, frozen: [], options: ReconcileOptions(prune: PrunePolicy(allowMassPrune: true)))
        XCTAssertEqual(allowed.pruneRefusals, [])
        XCTAssertEqual(allowed.changes.count(.deleted), 12, "everything but the Namespace")
        XCTAssertEqual(allowed.keptNamespaces.map(\.description), ["Namespace/docs"])
        XCTAssertNotNil(try cluster.client().get(ObjectReference(apiVersion: "v1", kind: "Namespace", namespace: nil, name: "docs")))
        XCTAssertEqual(try InventoryStore(client: try cluster.client()).load()["docs"]?.objects.map(\.description), ["Namespace/docs"],
                       "the kept namespace stays recorded, so a later --prune-namespaces can delete it")

        let namespaces = try reconciler().reconcile(withoutDocs, frozen: [], options: ReconcileOptions(prune: PrunePolicy(allowMassPrune: true, pruneNamespaces: true)))
        XCTAssertEqual(namespaces.changes.changes.filter { $0.action == .deleted }.map(\.description), ["Namespace/docs deleted"])
        XCTAssertNil(try InventoryStore(client: try cluster.client()).load()["docs"], "an owner with nothing left is forgotten")
    }

    func testAPruneOverTheConfiguredShareIsRefused() throws {
        let desired = try examples()
        _ = try reconciler().reconcile(desired, frozen: [])
        var fewer = desired
        for name in ["allow-dns", "allow-runner-egress", "allow-same-namespace", "default-deny"] {
            fewer = removing("NetworkPolicy", named: name, namespace: "payments-prod", from: fewer)
        }
        let strict = ReconcileOptions(prune: PrunePolicy(maxShare: 0.05))
        let refused = try reconciler().reconcile(fewer, frozen: [], options: strict)
        XCTAssertEqual(refused.pruneRefusals.map(\.description).first?.hasPrefix("prune refused: it would delete 4 of the"), true, "\(refused.pruneRefusals)")
        XCTAssertEqual(refused.changes.count(.deleted), 0)
        let pruned = try reconciler().reconcile(fewer, frozen: [], options: ReconcileOptions(prune: PrunePolicy(maxShare: 0.5)))
        XCTAssertEqual(pruned.changes.count(.deleted), 4)
    }

    func testAServerStoppedMidApplyFailsThatRunAndTheNextReconcileConverges() throws {
        let desired = try examples()
        // Each request takes a while, so the server can be stopped while the apply is under way.
        cluster.faults.inject(.latency(milliseconds: 40), times: 1_000)
        // The server stops as soon as the first object is applied: the apply is then under way.
        let underWay = DispatchSemaphore(value: 0)
        let stopped = DispatchSemaphore(value: 0)
        let stopper = Thread { [cluster] in
            underWay.wait()
            cluster!.stop()
            stopped.signal()
        }
        stopper.start()
        let client = KubeClient(config: try cluster.config(), retry: KubeRetryPolicy(attempts: 2, initialDelay: 0.01))
        let first = Mutex(true)
        let interrupted = Reconciler(client: client).reconcile(desired, frozen: [], onChange: { _ in
            if first.withLock({ was in defer { was = false }; return was }) { underWay.signal() }
        })
        underWay.signal()  // in case nothing was applied at all, so the stopper never waits forever
        stopped.wait()
        XCTAssertFalse(interrupted.succeeded)
        XCTAssertTrue(interrupted.changes.hasFailures || !interrupted.errors.isEmpty)
        let failure = interrupted.changes.failures.first?.message ?? interrupted.errors.first ?? ""
        XCTAssertTrue(failure.contains("refused") || failure.contains("did not answer") || failure.contains("failed"), failure)

        try cluster.start()
        cluster.faults.clear()
        let next = try reconciler().reconcile(desired, frozen: [])
        XCTAssertTrue(next.succeeded, next.changes.failures.map(\.message).joined(separator: "\n") + next.errors.joined())
        let count = desired.flatMap(\.manifests).count
        XCTAssertEqual(next.changes.count(.created) + next.changes.count(.configured) + next.changes.count(.unchanged), count)
        let quiet = try cluster.client()
        XCTAssertEqual(Reconciler(client: quiet).reconcile(desired, frozen: []).changes.count(.unchanged), count)
        XCTAssertEqual(quiet.requestCounts.writes, 0)
    }

    func testTheStatusReportComesFromTheChangeSetAndTheDiagnostics() throws {
        let repo = try ExampleCopy(extraTenant: ("broken.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: broken
            namespaces: [{name: broken}]
            colour: blue
            """))
        let rendered = try Examples.rendered(repo.path)
        XCTAssertEqual(rendered.invalidTenants.map(\.name), ["broken"])
        let desired = Reconciler.desired(rendered)
        let result = try reconciler().reconcile(desired, frozen: ["broken"])
        let report = Reconciler.statusReport(revision: "main@sha1:" + String(repeating: "a", count: 40), time: Date(timeIntervalSince1970: 0), rendered: rendered, result: result)
        let docs = report.tenants.first { $0.name == "docs" }!
        XCTAssertTrue(docs.ready)
        XCTAssertEqual(docs.applied.count, 13)
        XCTAssertEqual(docs.objects, 13)
        XCTAssertTrue(docs.applied.contains("RoleBinding/docs/tenantry-admins"))
        let broken = report.tenants.first { $0.name == "broken" }!
        XCTAssertFalse(broken.ready)
        XCTAssertEqual(broken.applied, [])
        XCTAssertEqual(broken.objects, 0, "an invalid tenant renders nothing")
        XCTAssertFalse(broken.errors.isEmpty)
        XCTAssertEqual(broken.errors.first?.file, "tenants/broken.yaml")
        XCTAssertTrue(broken.errors.contains { $0.message.contains("colour") || ($0.field ?? "").contains("colour") }, "\(broken.errors)")
    }
}

/// examples/tenants copied to a temporary directory, optionally with one more tenant file.
final class ExampleCopy {
    let url: URL
    var path: String { url.path }

    init(extraTenant: (name: String, text: String)? = nil) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenants-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Examples.tenants), to: url)
        if let extraTenant { try Data(extraTenant.text.utf8).write(to: url.appendingPathComponent("tenants/\(extraTenant.name)")) }
    }

    func write(_ relative: String, _ text: String) throws { try Data(text.utf8).write(to: url.appendingPathComponent(relative)) }
    func remove(_ relative: String) throws { try FileManager.default.removeItem(at: url.appendingPathComponent(relative)) }

    deinit { try? FileManager.default.removeItem(at: url) }
}
