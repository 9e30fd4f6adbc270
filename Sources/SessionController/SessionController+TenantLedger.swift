import Foundation
import Model
import Sessions
import Support

/// A tenant has one budget ledger: the NamespacePolicy status of its ledger namespace (`spec.tenant.ledgerNamespace`,
/// the first of its namespaces). Every Session of the tenant settles there, and every one of its namespaces reads the
/// budget from there. A policy without `spec.tenant` (rendered by an older version) is its own ledger.
extension SessionController {
    /// The namespace whose NamespacePolicy holds `namespace`'s budget ledger, as the cached policy says.
    func ledgerNamespace(of namespace: String) -> String {
        let policy = policies.cache.all(namespace: namespace).first
        guard let home = policy?["spec"]?["tenant"]?["ledgerNamespace"]?.stringValue, !home.isEmpty else { return namespace }
        return home
    }

    /// The namespaces whose ledger lives in `ledgerNamespace` (itself included), from the policy cache.
    func namespaces(sharingLedgerOf ledgerNamespace: String) -> [String] {
        let names = policies.cache.all().compactMap { policy -> String? in
            guard let namespace = policy["metadata"]?["namespace"]?.stringValue else { return nil }
            let home = policy["spec"]?["tenant"]?["ledgerNamespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? namespace
            return home == ledgerNamespace ? namespace : nil
        }
        return Array(Set(names + [ledgerNamespace])).sorted()
    }

    /// The tenant's ledger for `policy` when it lives on another namespace's policy (as cached); nil when the policy is
    /// its own ledger, or the ledger namespace's status has no budget yet (a fresh month).
    func tenantLedger(of policy: JSONObject) -> BudgetLedger? {
        guard let namespace = policy["metadata"]?["namespace"]?.stringValue else { return nil }
        let home = ledgerNamespace(of: namespace)
        guard home != namespace, let ledgerPolicy = policies.cache.all(namespace: home).first,
              let monthly = policy["spec"]?["models"]?["budget"]?["monthly"]?.stringValue.flatMap(Amount.init),
              let budget = ledgerPolicy["status"]?["budget"], budget.objectValue != nil else { return nil }
        return try? BudgetLedger(json: budget, monthly: monthly)
    }

    /// `snapshot` with the tenant's ledger in place of the namespace's own `status.budget`.
    func withTenantLedger(_ snapshot: PolicySnapshot, object: JSONObject) -> PolicySnapshot {
        guard snapshot.ledgerHome != snapshot.namespace else { return snapshot }
        var snapshot = snapshot
        snapshot.ledger = tenantLedger(of: object)
        return snapshot
    }

    /// A ledger write changes what every namespace of the tenant says about its budget: refresh their conditions.
    func ledgerChanged(_ ledgerNamespace: String) {
        for namespace in namespaces(sharingLedgerOf: ledgerNamespace) { countsChanged(namespace: namespace) }
    }
}
