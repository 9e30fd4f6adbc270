import Access
import Apply
import Audit
import Foundation
import HTTPServer
import Model
import Sessions
import Support

/// `POST …/stop` (verb update) and `…/approve`, `…/reject` (verb approve): the intent goes into the Session's
/// spec (SessionIntent) as a merge patch at the version read, so two approvers cannot both decide; the controller
/// acts on it. Recorded in the audit trail (refusals included) before the 202.
extension SessionsAPI {
    func stopSession(_ call: APICall) -> Response {
        steer(call, .stop, auditAction: "stop") { (view: SessionView, caller: Caller) throws(SessionIntent.Refusal) -> JSON in
            try SessionIntent.stop(by: caller.user, session: view.session)
        }
    }

    func decide(_ call: APICall, _ decision: SessionObject.ApprovalDecision.Decision) -> Response {
        var reason: String?
        if !call.request.body.isEmpty {
            guard let body = try? JSON(parsing: call.request.body), let object = body.objectValue else {
                return invalid("body", "the body must be a JSON object such as {\"reason\": \"…\"}", call.traceID)
            }
            if let unknown = object.keys.first(where: { $0 != "reason" }) {
                return invalid(unknown, "unknown field \"\(unknown.prefix(40))\": a decision takes reason only", call.traceID)
            }
            if let value = object["reason"] {
                guard let text = value.stringValue, text.count <= 2000 else { return invalid("reason", "reason must be a string of at most 2000 characters", call.traceID) }
                reason = text
            }
        }
        let action = decision == .approved ? "approve" : "reject"
        return steer(call, decision == .approved ? .approve : .reject, auditAction: action, details: reason.map { ["reason": .string($0)] } ?? [:]) { (view: SessionView, caller: Caller) throws(SessionIntent.Refusal) -> JSON in
            try SessionIntent.approval(decision, by: caller.user, at: Date(), session: view.session, policy: nil)
        }
    }

    private func steer(_ call: APICall, _ action: SessionAction, auditAction: String, details: JSONObject = [:],
                       intent: (SessionView, Caller) throws(SessionIntent.Refusal) -> JSON) -> Response {
        let admitted: Admitted
        switch enter(call, action, audit: auditAction) {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        let view: SessionView
        switch fetch(call, admitted.cluster) {
        case .success(let found): view = found
        case .failure(let refused): return refused.response
        }
        let base = AuditRecord(namespace: call.namespace, session: call.session, actor: admitted.caller.user, action: auditAction, resource: "sessions",
                               outcome: "succeeded", details: details, traceID: call.traceID)
        var patch: JSONObject
        do {
            patch = try intent(view, admitted.caller).objectValue ?? [:]
        } catch {
            var failed = base
            failed.outcome = "failed"
            failed.details["message"] = .string(error.message)
            if let refused = record(failed) { return refused }
            return answer(AccessFailure(status: 409, error: "conflict", message: error.message), call.traceID)
        }
        if let version = view.object["metadata"]?["resourceVersion"]?.stringValue { patch["metadata"] = ["resourceVersion": .string(version)] }
        // Durable before the write takes effect: a crash between the two leaves a record of an intent, never an
        // unrecorded one.
        if let refused = record(base) { return refused }
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: call.namespace, name: call.session)
        let stored: JSONObject
        do {
            stored = try admitted.cluster.mergePatch(reference, patch: patch)
        } catch {
            var failed = base
            failed.outcome = "failed"
            failed.details["message"] = .string(error.description)
            _ = record(failed)
            if error.status?.code == 409 {
                return answer(AccessFailure(status: 409, error: "conflict", message: "session \(call.namespace)/\(call.session) changed while it was being decided; read it again"), call.traceID)
            }
            if error.status?.code == 404 { return notFound("sessions.ambient.ai \"\(call.session)\" not found in namespace \(call.namespace)", call.traceID) }
            return clusterFailure(error, call.traceID)
        }
        let summary = (try? SessionView(object: stored))?.summary ?? view.summary
        return json(202, .object(summary), call.traceID)
    }
}
