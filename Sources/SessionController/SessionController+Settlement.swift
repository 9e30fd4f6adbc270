import Foundation
import Model
import Sessions

/// A Session in a final phase moves its reservation to spent (`actual`) or gives it back (`actual` nil).
extension SessionController {
    /// The annotation receivers that admit on the cluster's shared ledger (`serve --admission cluster`) put on a Session.
    public static let sharedAdmissionAnnotation = "tenantry.dev/admission"

    /// A Session admitted on the shared ledger holds its reservation in `status.admission.live`, and settling takes
    /// it out in the same write: if it is no longer there, it was settled before (by a controller replaced between
    /// that write and its status write) and nothing is charged twice. Other Sessions (admitted by one receiver's
    /// journal) settle against `status.budget` alone, as before.
    func finishBudget(of session: SessionObject, reservation: Amount, month: String, actual: Amount?) throws {
        let object = sessions.cache.get("\(session.namespace)/\(session.name)")
        let shared = object?["metadata"]?["annotations"]?[Self.sharedAdmissionAnnotation]?.stringValue == "cluster"
        try updateLedger(namespace: session.namespace) { ledger, now in
            if ledger.isLive(session.name) || shared { return ledger.finishing(session.name, actual: actual, now: now, uid: session.uid) }
            var next = ledger
            next.budget = ledger.budget.settling(reservation: reservation, reservedIn: month, actual: actual ?? Amount(micros: 0), now: now, session: session.uid)
            return next
        }
    }
}
