import Foundation
import Model
import Sessions
import Support

/// One event of the live stream: its id (the change's resourceVersion), name and data, framed once and sent to
/// every listener as is.
struct SessionChange: Sendable, Hashable {
    var resourceVersion: Int64
    var name: String
    var data: JSON

    var frame: Data { ServerSentEvents.event(id: String(resourceVersion), name: name, data: data) }
}

/// What a listener is told about one Session going from `old` to `new` (nil: not there), as specs/sessions-api.md
/// lists them: created, phase, approval, artifact, deleted; each carries the Session's summary as the list shows it.
/// Pure, so every rule is tested without a cluster.
enum SessionChanges {
    static func between(_ oldView: SessionView?, _ newView: SessionView?, resourceVersion: Int64) -> [SessionChange] {
        func change(_ name: String, _ view: SessionView, _ extra: JSONObject = [:]) -> SessionChange {
            var data: JSONObject = ["resourceVersion": .string(String(resourceVersion)), "session": .object(view.summary)]
            for (key, value) in zip(extra.keys, extra.values) { data[key] = value }
            return SessionChange(resourceVersion: resourceVersion, name: name, data: .object(data))
        }
        switch (oldView, newView) {
        case (nil, nil): return []
        case (let old?, nil): return [change("deleted", old)]
        case (nil, let new?): return [change("created", new)]
        case (let oldView?, let newView?):
            let (old, new) = (oldView.session, newView.session)
            var changes: [SessionChange] = []
            if old.status.phase != new.status.phase {
                changes.append(change("phase", newView, ["from": .string(old.status.phase.rawValue), "to": .string(new.status.phase.rawValue)]))
            }
            let before = old.status.conditions.first { $0.type == Condition.approved }
            let after = new.status.conditions.first { $0.type == Condition.approved }
            if before?.status != after?.status || before?.reason != after?.reason || old.approval != new.approval, after != nil || new.approval != nil {
                var approval: JSONObject = ["status": .string(after?.status.rawValue ?? Condition.Status.unknown.rawValue),
                                            "reason": .string(after?.reason ?? ""), "message": .string(after?.message ?? "")]
                if let decision = new.approval {
                    approval["decision"] = .string(decision.decision.rawValue)
                    approval["by"] = .string(decision.by)
                }
                changes.append(change("approval", newView, ["approval": .object(approval)]))
            }
            let added = new.status.artifacts.filter { !old.status.artifacts.contains($0) }
            if !added.isEmpty {
                changes.append(change("artifact", newView, ["artifacts": .array(added.map {
                    ["type": .string($0.type.rawValue), "location": .string($0.location), "createdAt": .string(Timestamp.rfc3339($0.createdAt))]
                })]))
            }
            return changes
        }
    }
}
