import Foundation
import Model
import Sessions
import Support

/// A Session as the API shows it (the contract's SessionSummary and SessionDetail), from the object the
/// cluster holds. Who started it and what it reruns are the annotations the API writes at create.
struct SessionView: Sendable {
    static let createdByAnnotation = "ambient.ai/created-by"
    static let parentAnnotation = "ambient.ai/parent"

    let object: JSONObject
    let session: SessionObject

    init(object: JSONObject) throws(SessionObject.ParseError) {
        self.object = object
        session = try SessionObject(object: object)
    }

    var annotations: JSONObject { object["metadata"]?["annotations"]?.objectValue ?? [:] }
    var createdAt: Date { session.creationTimestamp }

    /// The contract's SessionSummary: the one builder of what a list row, the detail and a live event (SSE) show of a
    /// Session, so the three never disagree. "Started by" is the person who created it through the API (the
    /// annotation the API writes), else the author of the issue, comment or message that triggered it.
    var summary: JSONObject {
        let status = session.status
        let payload = session.trigger.payload
        var body: JSONObject = ["id": .string(session.name), "namespace": .string(session.namespace), "phase": .string(status.phase.rawValue),
                                "source": .string(session.trigger.source.rawValue), "framework": .string(session.framework.type),
                                "createdAt": .string(Timestamp.rfc3339(session.creationTimestamp))]
        if !session.trigger.event.isEmpty { body["event"] = .string(session.trigger.event) }
        if let text = payload["description"]?.stringValue ?? payload["title"]?.stringValue { body["description"] = .string(text) }
        if let model = session.framework.config["model"]?.stringValue { body["model"] = .string(model) }
        if let repository = payload["repository"]?.stringValue ?? payload["repository"]?["fullName"]?.stringValue { body["repository"] = .string(repository) }
        if let url = payload["url"]?.stringValue { body["url"] = .string(url) }
        if let by = annotations[Self.createdByAnnotation]?.stringValue ?? payload["author"]?.stringValue ?? payload["createdBy"]?.stringValue {
            body["createdBy"] = .string(by)
        }
        if let parent = annotations[Self.parentAnnotation]?.stringValue { body["parent"] = .string(parent) }
        if let start = status.startTime { body["startedAt"] = .string(Timestamp.rfc3339(start)) }
        if let end = status.completionTime { body["completedAt"] = .string(Timestamp.rfc3339(end)) }
        body["approvalRequired"] = .bool(session.constraints.approvalRequired)
        if let cost = status.cost.actual ?? status.cost.estimated { body["cost"] = .string(cost.description) }
        return body
    }

    /// The detail; `history` and `artifacts` only when asked for.
    func detail(history: Bool, artifacts: [JSON]?) -> JSON {
        var body = summary
        body["spec"] = object["spec"] ?? [:]
        body["conditions"] = .array(session.status.conditions.map(\.json))
        if history { body["history"] = .array(session.status.history.map(\.json)) }
        if let artifacts { body["artifacts"] = .array(artifacts) }
        var workload = JSONObject()
        if let job = session.status.workload.jobName { workload["jobName"] = .string(job) }
        if let pod = session.status.workload.podName { workload["podName"] = .string(pod) }
        body["workload"] = .object(workload)
        if let approval = session.approval {
            var decision: JSONObject = ["decision": .string(approval.decision.rawValue), "by": .string(approval.by)]
            if let at = approval.at { decision["at"] = .string(Timestamp.rfc3339(at)) }
            body["approval"] = .object(decision)
        }
        return .object(body)
    }
}
