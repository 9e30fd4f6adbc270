import Access
import Apply
import Audit
import Foundation
import HTTPServer
import Model
import Sessions
import Support

/// `POST …/sessions` (a manual session) and `POST …/sessions/{id}/rerun` (the same spec again, linked to its
/// parent), both verb create and both through the injected admission — the webhooks' own rules. 201 with the
/// SessionDetail once the Session is in the cluster; recorded in the audit trail (refusals with the rule) first.
extension SessionsAPI {
    func createSession(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, .create, audit: "create") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        let request: ManualSessionBody
        switch ManualSessionBody.parse(call.request.body) {
        case .success(let parsed): request = parsed
        case .failure(let bad):
            return answer(AccessFailure(status: 400, error: "invalid_request", message: bad.messages.joined(separator: "; "),
                                        details: ["fields": .strings(bad.fields)]), call.traceID)
        }
        var payload: JSONObject = ["description": .string(request.description)]
        if let repository = request.repository { payload["repository"] = .string(repository) }
        let admission = SessionAdmission(namespace: call.namespace, actor: admitted.caller.user,
                                         trigger: Session.Trigger(source: .manual, event: "manual", payload: payload),
                                         framework: request.framework, labels: request.labels,
                                         annotations: request.annotations.merging([SessionView.createdByAnnotation: admitted.caller.user]) { $1 })
        return start(admission, call, admitted, auditAction: "create", details: [:])
    }

    func rerunSession(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, .rerun, audit: "rerun") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        let parent: SessionView
        switch fetch(call, admitted.cluster) {
        case .success(let found): parent = found
        case .failure(let refused): return refused.response
        }
        let labels = (parent.object["metadata"]?["labels"]?.objectValue ?? [:]).pairs.compactMap { key, value in
            value.stringValue.map { (key, $0) }
        }.filter { !$0.0.hasPrefix("tenantry.dev/") && !$0.0.hasPrefix("ambient.ai/") }
        let admission = SessionAdmission(namespace: call.namespace, actor: admitted.caller.user,
                                         trigger: Session.Trigger(source: parent.session.trigger.source, event: parent.session.trigger.event,
                                                                  payload: parent.session.trigger.payload),
                                         framework: parent.session.framework, labels: Dictionary(labels) { $1 },
                                         annotations: [SessionView.createdByAnnotation: admitted.caller.user, SessionView.parentAnnotation: call.session])
        return start(admission, call, admitted, auditAction: "rerun", details: ["parent": .string(call.session)])
    }

    /// Admission, the audit record, then the 201 with the Session as the cluster has it.
    private func start(_ admission: SessionAdmission, _ call: APICall, _ admitted: Admitted, auditAction: String, details: JSONObject) -> Response {
        guard let admit else { return unavailable("the Sessions API has no admission to start sessions with (serve wires the webhooks' in)", call.traceID) }
        let decision = admit(admission)
        var record = AuditRecord(namespace: call.namespace, actor: admitted.caller.user, action: auditAction, resource: "sessions", outcome: "succeeded",
                                 details: details, traceID: call.traceID)
        switch decision {
        case .refused(let status, let error, let message, let refusal, let retryAfter):
            record.outcome = "refused"
            record.details["status"] = .int(status)
            record.details["message"] = .string(message)
            if let rule = refusal["rule"] { record.details["rule"] = rule }
            if let failed = self.record(record) { return failed }
            var response = answer(AccessFailure(status: status, error: error, message: message, details: refusal), call.traceID)
            if let retryAfter { response.headers["Retry-After"] = String(retryAfter) }
            return response
        case .admitted(let name, _, let created):
            record.session = name
            if let failed = self.record(record) { return failed }
            let location = "/api/v1/namespaces/\(call.namespace)/sessions/\(name)"
            guard created else {
                var response = unavailable("session \(call.namespace)/\(name) is admitted and journaled but not in the cluster yet; it is created when the cluster answers (GET \(location))", call.traceID)
                response.headers["Location"] = location
                return response
            }
            let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: call.namespace, name: name)
            guard let object = try? admitted.cluster.get(reference), let view = try? SessionView(object: object) else {
                return unavailable("session \(call.namespace)/\(name) was created but cannot be read back; GET \(location)", call.traceID)
            }
            var response = json(201, view.detail(history: false, artifacts: nil), call.traceID)
            response.headers["Location"] = location
            return response
        }
    }
}

/// The body of a manual session (the contract's SessionCreate), each bad field named.
struct ManualSessionBody {
    var framework: Session.Framework
    var description: String
    var repository: String?
    var labels: [String: String]
    var annotations: [String: String]

    struct Bad: Error {
        var fields: [String] = []
        var messages: [String] = []
        mutating func add(_ field: String, _ message: String) {
            fields.append(field)
            messages.append("\(field): \(message)")
        }
    }

    static func parse(_ data: Data) -> Result<ManualSessionBody, Bad> {
        var bad = Bad()
        guard let json = try? JSON(parsing: data), let body = json.objectValue else {
            bad.add("body", "must be a JSON object with framework and trigger")
            return .failure(bad)
        }
        func only(_ object: JSONObject, _ keys: Set<String>, _ prefix: String) {
            for key in object.keys where !keys.contains(key) { bad.add(prefix + key.prefix(60), "unknown field") }
        }
        only(body, ["framework", "trigger", "repository", "metadata"], "")
        var framework = Session.Framework(type: "", version: "")
        if let object = body["framework"]?.objectValue {
            only(object, ["type", "version", "config"], "framework.")
            if let type = object["type"]?.stringValue, !type.isEmpty { framework.type = type } else { bad.add("framework.type", "required: the runner framework, e.g. claude-code") }
            if let version = object["version"] {
                if let text = version.stringValue { framework.version = text } else { bad.add("framework.version", "must be a string") }
            }
            if let config = object["config"] {
                if let value = config.objectValue { framework.config = value } else { bad.add("framework.config", "must be an object") }
                if let model = config["model"], model.stringValue == nil { bad.add("framework.config.model", "must be a string") }
                if let tools = config["tools"], tools.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true { bad.add("framework.config.tools", "must be a list of strings") }
            }
        } else {
            bad.add("framework", "required: an object with type")
        }
        var description = ""
        if let object = body["trigger"]?.objectValue {
            only(object, ["source", "description"], "trigger.")
            if object["source"]?.stringValue != "manual" { bad.add("trigger.source", "must be manual (other sources arrive as webhooks)") }
            if let text = object["description"]?.stringValue, (1...10_000).contains(text.count) { description = text } else {
                bad.add("trigger.description", "required: what the agent is to do, 1 to 10000 characters")
            }
        } else {
            bad.add("trigger", "required: {source: manual, description}")
        }
        var repository: String?
        if let value = body["repository"] {
            if let text = value.stringValue, !text.isEmpty, text.count <= 2048 { repository = text } else { bad.add("repository", "must be owner/name or a clone URL") }
        }
        var labels: [String: String] = [:], annotations: [String: String] = [:]
        if let value = body["metadata"] {
            if let metadata = value.objectValue {
                only(metadata, ["labels", "annotations"], "metadata.")
                labels = strings(metadata["labels"], "metadata.labels", label: true, &bad)
                annotations = strings(metadata["annotations"], "metadata.annotations", label: false, &bad)
            } else {
                bad.add("metadata", "must be an object with labels and annotations")
            }
        }
        guard bad.fields.isEmpty else { return .failure(bad) }
        return .success(ManualSessionBody(framework: framework, description: description, repository: repository, labels: labels, annotations: annotations))
    }

    /// Labels and annotations as Kubernetes takes them; the `tenantry.dev/` and `ambient.ai/` prefixes are the platform's.
    private static func strings(_ value: JSON?, _ field: String, label: Bool, _ bad: inout Bad) -> [String: String] {
        guard let value else { return [:] }
        guard let object = value.objectValue else {
            bad.add(field, "must be an object of strings")
            return [:]
        }
        var result: [String: String] = [:]
        for (key, item) in object.pairs {
            let name = "\(field).\(key.prefix(60))"
            guard let text = item.stringValue else { bad.add(name, "must be a string"); continue }
            guard QualifiedName.isValid(key) else { bad.add(name, "is not a valid key: [prefix/]name, name at most 63 of letters, digits, '-', '_', '.'"); continue }
            guard !key.hasPrefix("tenantry.dev/"), !key.hasPrefix("ambient.ai/") else { bad.add(name, "the tenantry.dev/ and ambient.ai/ prefixes are reserved"); continue }
            if label, !QualifiedName.isLabelValue(text) { bad.add(name, "is not a valid label value: at most 63 of letters, digits, '-', '_', '.'"); continue }
            if !label, text.utf8.count > 65_536 { bad.add(name, "is longer than 64 KiB"); continue }
            result[key] = text
        }
        return result
    }
}

/// Label and annotation keys and label values as Kubernetes validates them (the contract's MetadataKey and label
/// value patterns, exactly).
enum QualifiedName {
    private static let keyPattern = #"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"#
    private static let valuePattern = #"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"#

    static func isValid(_ text: String) -> Bool {
        text.utf8.count <= 317 && text.unicodeScalars.allSatisfy(\.isASCII) && text.range(of: keyPattern, options: .regularExpression) != nil
    }

    static func isLabelValue(_ text: String) -> Bool {
        text.utf8.count <= 63 && text.unicodeScalars.allSatisfy(\.isASCII) && text.range(of: valuePattern, options: .regularExpression) != nil
    }
}
