import Foundation
import Model
import Support

/// A session a person starts through the Sessions API (create, rerun): decided by the same journal and
/// AdmissionState as a delivery (models, tools, concurrency, rate, budget), created by the same creator (which
/// writes no status: the session controller sets the approval condition). Only the route differs: the namespace is the one the
/// caller was authorized in, and its runner framework must be the namespace's.
extension WebhookService {
    public enum ManualDecision: Sendable, Hashable {
        /// Journaled; `created`: the Session was confirmed in the API server within the wait.
        case admitted(name: String, object: JSONObject, created: Bool)
        case refused(WebhookFailure)
    }

    public func admitManual(namespace: String, trigger: Session.Trigger, framework: Session.Framework, labels: [String: String],
                            annotations: [String: String], wait: TimeInterval = 10) -> ManualDecision {
        guard let table = tenantTable else { return .refused(WebhookFailure(503, .notReady, "the tenant table is not loaded yet; retry shortly", retryAfter: 5)) }
        guard let policy = table.policies[namespace], let tenant = table.tenantOfNamespace[namespace], let budget = table.budgets[tenant] else {
            return .refused(WebhookFailure(404, .notFound, "namespace \(namespace) is no tenant's namespace in revision \(table.revision)"))
        }
        let runner = policy.policy.runner
        guard framework.type == runner.type else {
            return .refused(.policy("framework \(framework.type) is not the runner of namespace \(namespace); its runner is \(runner.type)", rule: "runner",
                                    details: ["framework": .string(framework.type), "allowed": .strings([runner.type])]))
        }
        let model = framework.config["model"]?.stringValue ?? policy.policy.models.defaultModel
        let tools = framework.config["tools"]?.arrayValue?.compactMap(\.stringValue) ?? policy.policy.tools.allowed
        let cost = table.estimatedCost(model: model) ?? Amount(micros: 0)
        let id = UUID().uuidString.lowercased()
        let name = "manual-\(Crypto.sha256Hex(Array("manual:\(id)".utf8)).prefix(20))"
        var config = framework.config
        config["model"] = .string(model)
        config["tools"] = .strings(tools)
        let target = TenantTable.Target(tenant: tenant, namespace: namespace)
        var sessionTrigger = trigger
        sessionTrigger.deliveryID = id
        var object = sessionObject(name: name, target: target, trigger: sessionTrigger, policy: policy, config: config, rule: "manual", cost: cost)
        var metadata = object["metadata"]?.objectValue ?? [:]
        // The platform's own labels and annotations win over the caller's.
        var merged = JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })
        for (key, value) in (metadata["labels"]?.objectValue ?? [:]).pairs { merged[key] = value }
        metadata["labels"] = .object(merged)
        var notes = JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })
        for (key, value) in (metadata["annotations"]?.objectValue ?? [:]).pairs { notes[key] = value }
        metadata["annotations"] = .object(notes)
        object["metadata"] = .object(metadata)
        let request = AdmissionRequest(deliveryKey: "manual:\(id)", sessionName: name, tenant: tenant, namespace: namespace, model: model, tools: tools,
                                       estimatedCost: cost, policy: policy, budget: budget, object: object)
        // The same order as a delivery: the shared ledger (serve --admission cluster), then the journal.
        let shared = configuration.sharedAdmission
        let reserved: ClusterAdmission.Outcome?
        do { reserved = try shared?.reserve(request) } catch { return .refused(error) }
        let decision = journal.submit(request)
        if reserved == .reserved, decision != .admitted(session: request.sessionName), decision != .duplicate(session: request.sessionName) {
            shared?.withdraw(request)
        }
        switch decision {
        case .refused(let failure): return .refused(failure)
        case .duplicate(let session): return .refused(WebhookFailure(409, .unavailable, "session \(session) already answers this request"))
        case .admitted(let session):
            creator.enqueue(JournalEntry(deliveryKey: request.deliveryKey, session: session, namespace: namespace, tenant: tenant, object: object,
                                         approvalRequired: policy.policy.approval.required))
            switch creator.waitUntilSettled(session, deadline: Date().addingTimeInterval(wait)) {
            case .done?: return .admitted(name: session, object: object, created: true)
            case .failed?:
                return .refused(WebhookFailure(400, .invalidPayload, "the API server refused Session/\(namespace)/\(session); the server's log has its answer",
                                               details: ["sessionId": .string(session)]))
            default: return .admitted(name: session, object: object, created: false)
            }
        }
    }
}
