import Apply
import Model
import Webhooks

extension KubeSessionWriter {
    /// Sets a Session's `status.phase`, as the session controller would (tests stand in for it).
    func setPhase(namespace: String, name: String, phase: Session.Phase) throws {
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, name: name)
        _ = try client.patchStatus(reference, status: ["phase": .string(phase.rawValue)])
    }
}
