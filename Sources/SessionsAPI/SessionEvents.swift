import Access
import Audit
import Foundation
import HTTPServer
import Model

/// `GET /api/v1/namespaces/{ns}/events`: Server-Sent Events of the namespace's Session changes for live UIs,
/// from the namespace's one shared watch (specs/sessions-api.md, "Live session events"). Refusals are JSON
/// answers before the stream starts; the subscription is recorded in the audit trail first.
extension SessionsAPI {
    func sessionEvents(_ call: APICall) -> Response {
        let (namespace, traceID) = (call.namespace, call.traceID)
        guard let streams else { return unavailable("live session events are not served here: the API has no cluster to watch", traceID) }
        let caller: Caller
        switch gate.caller(authorization: call.authorization) {
        case .success(let found): caller = found
        case .failure(let failure): return answer(failure, traceID)
        }
        if case .failure(let failure) = gate.authorize(caller, .events, namespace: namespace) {
            return failure.status == 403
                ? recorded(failure, namespace: namespace, actor: caller.user, action: "list", resource: "sessions/events", traceID)
                : answer(failure, traceID)
        }
        let lastEventID = call.request.headers["last-event-id"]
        var details: JSONObject = [:]
        if let lastEventID { details["lastEventId"] = .string(String(lastEventID.prefix(40))) }
        do {
            try audit.append(AuditRecord(namespace: namespace, actor: caller.user, action: "list", resource: "sessions/events", outcome: "succeeded",
                                         details: details, traceID: traceID))
        } catch {
            return unavailable("the audit trail cannot be written: \(error)", traceID)
        }
        // An id that is not one of ours (not a number) is as good as none: the listener starts with a snapshot.
        let position: Int64? = lastEventID.flatMap { text in Int64(text.trimmingCharacters(in: .whitespaces)) }
        let gate = self.gate, authorization = call.authorization
        let feed = streams.feeds.join(namespace)
        let listener = SessionEventStream(feed: feed, feeds: streams.feeds, after: position, retryMilliseconds: streams.options.retryMilliseconds,
                                          heartbeat: streams.options.heartbeat, recheck: streams.options.recheck, traceID: traceID) {
            switch gate.admit(authorization: authorization, .events, namespace: namespace) {
            case .success: return nil
            case .failure(let failure): return failure
            }
        }
        return Response(status: 200, headers: ["Content-Type": ServerSentEvents.contentType, "Cache-Control": "no-store", "X-Trace-Id": traceID,
                                               "X-Accel-Buffering": "no"],
                        stream: ResponseStream(next: { listener.next() }, cancel: { listener.cancel() }))
    }
}
