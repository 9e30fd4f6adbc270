import Apply
import Foundation
import Model
import Sessions

extension SessionsAPI {
    /// This month's ledger of each tenant among `infos`, read from its ledger namespace's NamespacePolicy status (one
    /// read per tenant). A tenant whose ledger cannot be read is left out: its namespaces show the table's `spent`.
    func tenantLedgers(of infos: [NamespaceInfo]) -> [String: BudgetLedger] {
        guard let cluster else { return [:] }
        var ledgers: [String: BudgetLedger] = [:]
        for home in Set(infos.compactMap(\.ledgerNamespace)).sorted() {
            let reference = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: home, name: NamespacePolicy.objectName)
            guard let object = try? cluster.get(reference), let policy = try? PolicySnapshot(object: object) else { continue }
            ledgers[home] = (policy.ledger ?? BudgetLedger.empty(monthly: policy.budget.monthly, now: Date())).rolled(to: Date())
        }
        return ledgers
    }
}
