import Foundation
import Model
import Sessions

/// A Session in a final phase moves its reservation to spent (`actual`) or gives it back (`actual` nil).
extension SessionController {
    /// The annotation receivers that admit on the cluster's shared ledger (`serve --admission cluster`) put on a Session.
    public static let sharedAdmissionAnnotation = "tenantry.dev/admission"

    /// Every Session settles on its tenant's ledger (the ledger namespace's NamespacePolicy status). A Session admitted
    /// on the shared ledger holds its reservation in `status.admission.live` there, and settling takes it out in the
    /// same write: if it is no longer there, it was settled before (by a controller replaced between that write and its
    /// status write) and nothing is charged twice. Other Sessions (admitted by one receiver's journal) settle against
    /// `status.budget` alone, as before.
    func finishBudget(of session: SessionObject, reservation: Amount, month: String, actual: Amount?) throws {
        let annotations = sessions.cache.get("\(session.namespace)/\(session.name)")?["metadata"]?["annotations"]
        let shared = annotations?[Self.sharedAdmissionAnnotation]?.stringValue == "cluster"
        // Where the Session's namespace's own policy says, never where the Session says (its author could name another tenant's).
        var home = ledgerNamespace(of: session.namespace)
        // A reservation made before the tenant had one ledger is held on the Session's own namespace: settle it there.
        if shared, home != session.namespace, !isLive(session, in: home), isLive(session, in: session.namespace) { home = session.namespace }
        try updateLedger(namespace: home) { ledger, now in
            if ledger.isLive(session.name, namespace: session.namespace) || shared {
                return ledger.finishing(session.name, namespace: session.namespace, actual: actual, now: now, uid: session.uid)
            }
            var next = ledger
            next.budget = ledger.budget.settling(reservation: reservation, reservedIn: month, actual: actual ?? Amount(micros: 0), now: now, session: session.uid)
            return next
        }
    }

    /// Whether the cached policy of `ledgerNamespace` holds a reservation for `session`.
    private func isLive(_ session: SessionObject, in ledgerNamespace: String) -> Bool {
        guard let policy = policies.cache.all(namespace: ledgerNamespace).first,
              let monthly = policy["spec"]?["models"]?["budget"]?["monthly"]?.stringValue.flatMap(Amount.init),
              let ledger = try? SharedLedger(status: policy["status"], monthly: monthly, now: configuration.clock(), namespace: ledgerNamespace) else { return false }
        return ledger.isLive(session.name, namespace: session.namespace)
    }
}
