import Apply
import Model
import XCTest

/// The prune plan is pure: inventories and current objects in, deletions and refusals out.
final class PrunePlanTests: XCTestCase {
    func cm(_ name: String, _ namespace: String = "team") -> ObjectReference {
        ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: namespace, name: name)
    }
    func ns(_ name: String) -> ObjectReference { ObjectReference(apiVersion: "v1", kind: "Namespace", namespace: nil, name: name) }

    func testStaleIsPreviousMinusCurrentAndNamespacesAreKeptWithoutTheFlag() {
        let previous = ["a": Inventory(owner: "a", objects: [cm("1"), cm("2"), cm("3"), ns("team")])]
        let plan = PrunePlan.make(previous: previous, current: ["a": [cm("1"), cm("2")]], frozen: [], policy: PrunePolicy())
        XCTAssertEqual(plan.stale, ["a": [cm("3")]])
        XCTAssertEqual(plan.keptNamespaces, ["a": [ns("team")]])
        XCTAssertEqual(plan.refusals, [])
        let withNamespaces = PrunePlan.make(previous: previous, current: ["a": [cm("1"), cm("2")]], frozen: [],
                                            policy: PrunePolicy(pruneNamespaces: true))
        XCTAssertEqual(withNamespaces.stale, ["a": [cm("3"), ns("team")]])
    }

    func testAFrozenOwnerIsNeverPrunedAndNeverTripsAGuard() {
        let previous = ["broken": Inventory(owner: "broken", objects: [cm("1"), cm("2")])]
        let plan = PrunePlan.make(previous: previous, current: [:], frozen: ["broken"], policy: PrunePolicy())
        XCTAssertEqual(plan.stale, [:])
        XCTAssertEqual(plan.refusals, [])
    }

    func testAnObjectMovedToAnotherOwnerIsNotPruned() {
        let previous = ["a": Inventory(owner: "a", objects: [cm("shared"), cm("x")]), "b": Inventory(owner: "b", objects: [cm("y")])]
        let plan = PrunePlan.make(previous: previous, current: ["a": [cm("x")], "b": [cm("y"), cm("shared")]], frozen: [], policy: PrunePolicy())
        XCTAssertEqual(plan.stale, [:])
    }

    func testAnEmptyRenderAndAnOversizedPruneAreRefusedUnlessAllowed() {
        let previous = ["a": Inventory(owner: "a", objects: [cm("1"), cm("2")]), "b": Inventory(owner: "b", objects: [cm("3"), cm("4")])]
        let empty = PrunePlan.make(previous: previous, current: ["b": [cm("3"), cm("4")]], frozen: [], policy: PrunePolicy())
        XCTAssertEqual(empty.refusals, [.emptyRender(owner: "a", recorded: 2)])
        XCTAssertEqual(empty.refusals.first?.description,
                       "prune refused: a rendered no objects but 2 are recorded for it in the cluster; if removing them all is intended, re-run with --allow-mass-prune")
        let share = PrunePlan.make(previous: previous, current: ["a": [cm("1")], "b": [cm("3")]], frozen: [], policy: PrunePolicy(maxShare: 0.25))
        XCTAssertEqual(share.refusals, [.share(stale: 2, total: 4, maxShare: 0.25)])
        let allowed = PrunePlan.make(previous: previous, current: ["b": [cm("3")]], frozen: [], policy: PrunePolicy(allowMassPrune: true))
        XCTAssertEqual(allowed.refusals, [])
        XCTAssertEqual(allowed.stale, ["a": [cm("1"), cm("2")], "b": [cm("4")]])
    }
}
