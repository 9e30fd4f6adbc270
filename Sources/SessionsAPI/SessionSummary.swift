import Foundation
import Model
import Sessions
import Support

/// The contract's `SessionSummary` of a Session object: what a list row and a live event show.
enum SessionSummary {
    static func json(_ session: SessionObject) -> JSON {
        let payload = session.trigger.payload
        var object: JSONObject = [
            "id": .string(session.name), "namespace": .string(session.namespace), "phase": .string(session.status.phase.rawValue),
            "source": .string(session.trigger.source.rawValue), "framework": .string(session.framework.type),
            "createdAt": .string(Timestamp.rfc3339(session.creationTimestamp)),
            "approvalRequired": .bool(session.constraints.approvalRequired),
        ]
        if !session.trigger.event.isEmpty { object["event"] = .string(session.trigger.event) }
        if let text = payload["description"]?.stringValue ?? payload["title"]?.stringValue { object["description"] = .string(text) }
        if let model = session.framework.config["model"]?.stringValue { object["model"] = .string(model) }
        if let repository = payload["repository"]?.stringValue ?? payload["repository"]?["fullName"]?.stringValue { object["repository"] = .string(repository) }
        if let url = payload["url"]?.stringValue { object["url"] = .string(url) }
        if let author = payload["author"]?.stringValue ?? payload["createdBy"]?.stringValue { object["createdBy"] = .string(author) }
        if let start = session.status.startTime { object["startedAt"] = .string(Timestamp.rfc3339(start)) }
        if let end = session.status.completionTime { object["completedAt"] = .string(Timestamp.rfc3339(end)) }
        if let cost = session.status.cost.actual ?? session.status.cost.estimated { object["cost"] = .string(cost.description) }
        if let parent = payload["parent"]?.stringValue { object["parent"] = .string(parent) }
        return .object(object)
    }
}
