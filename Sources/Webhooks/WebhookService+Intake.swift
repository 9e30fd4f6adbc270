import Foundation
import HTTPServer
import Model
import Support

/// Intake as typed steps: sender proof → route → trigger → admission → journal. Each step either hands the
/// next one what it found or ends the delivery with an answer (`Step.answered`); a refusal is thrown as a
/// `WebhookFailure`. Every end is a `WebhookOutcome`.
extension WebhookService {
    /// One POSTed delivery, as it enters intake.
    struct Delivery {
        let source: WebhookSource
        let headers: [String: String]
        let body: Data
        /// The `/validate` endpoint: say what would happen, record nothing.
        let validateOnly: Bool
        let traceID: String
        let now: Date
    }

    /// Where a step leaves a delivery.
    enum Step<Next> {
        case next(Next)
        case answered(Answer)
    }

    /// The event and the namespace it goes to, with that namespace's policy and its tenant's budget.
    struct Routed {
        let event: InboundEvent
        let target: TenantTable.Target
        let policy: NamespacePolicy
        let budget: Budget
    }

    /// A routed event that matched a trigger: the session it asks for.
    struct Triggered {
        let routed: Routed
        let rule: String
        /// What kind of intent the trigger matched (one session per intent within the window).
        let kind: String
        let model: String
        let tools: [String]
        let cost: Amount
    }

    /// The whole intake of one delivery.
    func intake(_ delivery: Delivery) throws(WebhookFailure) -> Answer {
        let table = try admissible(delivery)
        try proveSender(delivery)
        let routed: Routed
        switch try route(delivery, table: table) {
        case .answered(let answer): return answer
        case .next(let next): routed = next
        }
        let triggered: Triggered
        switch trigger(routed, delivery, table: table) {
        case .answered(let answer): return answer
        case .next(let next): triggered = next
        }
        let request = admission(triggered, delivery)
        if delivery.validateOnly { return validate(request, triggered) }
        return try record(request, triggered, delivery)
    }

    /// 0. A body within the source's limit, and a tenant table to route it with.
    private func admissible(_ delivery: Delivery) throws(WebhookFailure) -> TenantTable {
        let source = delivery.source
        let limit = configuration.bodyLimits[source] ?? configuration.largestBodyLimit
        guard delivery.body.count <= limit else {
            throw WebhookFailure(413, .payloadTooLarge, "the body is \(delivery.body.count) bytes; \(source.rawValue) deliveries may be at most \(limit) bytes")
        }
        guard let table = tenantTable else {
            throw WebhookFailure(503, .notReady, "the tenant table is not loaded yet; retry shortly", retryAfter: 5)
        }
        return table
    }

    /// 1. The sender: each source's signature (generic deliveries prove themselves with the API key instead).
    private func proveSender(_ delivery: Delivery) throws(WebhookFailure) {
        let (headers, body) = (delivery.headers, delivery.body)
        switch delivery.source {
        case .github: try SenderVerification.verifyGitHub(headers: headers, body: body, secret: configuration.secrets.github)
        case .jira: try SenderVerification.verifyJira(headers: headers, body: body, secret: configuration.secrets.jira)
        case .slack: try SenderVerification.verifySlack(headers: headers, body: body, secret: configuration.secrets.slack, now: delivery.now)
        case .generic: break
        }
    }

    /// 2. The route: the API key (when given; required for generic) and the route table resolve the namespace
    /// server-side, never from the payload, and must agree on the tenant. Answers pings, challenges, pull
    /// requests on the tenant repository and pushes to a followed repository on the way.
    private func route(_ delivery: Delivery, table: TenantTable) throws(WebhookFailure) -> Step<Routed> {
        let source = delivery.source
        let keyTarget = try apiKeyTarget(delivery.headers["x-api-key"], source: source, table: table)
        let event: InboundEvent
        switch try parse(delivery) {
        case .answered(let answer): return .answered(answer)
        case .next(let parsed): event = parsed
        }
        let routeTarget = event.routeKey.flatMap { table.routes[source]?[$0] }
        if let keyTarget, let routeTarget, keyTarget.tenant != routeTarget.tenant {
            throw WebhookFailure(403, .routingConflict,
                                 "the API key belongs to tenant \(keyTarget.tenant) but \(event.routeKey ?? "") is routed to tenant \(routeTarget.tenant); use that tenant's key or fix the routing in the tenant repo",
                                 details: ["keyTenant": .string(keyTarget.tenant), "routeTenant": .string(routeTarget.tenant)])
        }
        guard let target = keyTarget ?? routeTarget, let policy = table.policies[target.namespace],
              let budget = table.budgets[target.tenant] else {
            let what = event.routeKey.map { "\($0) is not routed to any tenant" } ?? "the delivery names nothing routable and carries no API key"
            return .answered(ignored(what, event: event, delivery))
        }
        return .next(Routed(event: event, target: target, policy: policy, budget: budget))
    }

    /// The body as an event of its source.
    private func parse(_ delivery: Delivery) throws(WebhookFailure) -> Step<InboundEvent> {
        let (headers, body) = (delivery.headers, delivery.body)
        switch delivery.source {
        case .github:
            guard let name = headers["x-github-event"], let id = headers["x-github-delivery"], !id.isEmpty else {
                throw WebhookFailure(400, .invalidPayload, "missing X-GitHub-Event or X-GitHub-Delivery header")
            }
            let payload = try EventParser.parseJSON(body)
            if name == "ping" {
                return .answered(Answer(response: self.json(200, ["status": "ok", "message": "pong", "zen": payload["zen"] ?? .null]), outcome: .ping))
            }
            if name == "pull_request", let reviewer = configuration.tenantRepoReviewer, reviewer.concerns(Array(body)) {
                return .answered(planPullRequest(Array(body), reviewer: reviewer, delivery: id, traceID: delivery.traceID))
            }
            // A push to a repository this process follows (serve --reconcile) starts its reconcile now.
            if name == "push", let url = payload["repository"]?["clone_url"]?.stringValue, (configuration.repositoryPushed?(url) ?? 0) > 0 {
                configuration.log?(.info, DeliveryLog.line(.github, event: "push", delivery: id, trace: delivery.traceID, "reconcile of the tenant repository started"))
                return .answered(Answer(response: self.json(202, ["status": "ignored", "reason": "push to the tenant repository: its reconcile starts now"]),
                                        outcome: .refresh))
            }
            return .next(EventParser.github(event: name, deliveryID: id, body: payload))
        case .jira:
            guard let id = headers["x-atlassian-webhook-identifier"], !id.isEmpty else {
                throw WebhookFailure(400, .invalidPayload, "missing X-Atlassian-Webhook-Identifier header")
            }
            return .next(try EventParser.jira(deliveryID: id, body: try EventParser.parseJSON(body)))
        case .slack:
            if (headers["content-type"] ?? "").hasPrefix("application/x-www-form-urlencoded") {
                let form = try EventParser.formFields(body)
                // Slack interactivity (buttons, modals) is acknowledged with 200, never a session.
                if let reason = EventParser.slackInteraction(form: form) {
                    configuration.log?(.info, DeliveryLog.line(.slack, event: "interaction", delivery: nil, trace: delivery.traceID, "ignored"))
                    return .answered(Answer(response: json(200, ["status": "ignored", "reason": .string(reason)]), outcome: .ignored))
                }
                return .next(try EventParser.slackCommand(form: form))
            }
            let payload = try EventParser.parseJSON(body)
            if payload["type"]?.stringValue == "url_verification" {
                return .answered(Answer(response: self.json(200, ["challenge": payload["challenge"] ?? .null]), outcome: .urlVerification))
            }
            return .next(try EventParser.slackEvent(body: payload))
        case .generic:
            let id = headers["idempotency-key"] ?? headers["x-delivery-id"] ?? UUID().uuidString.lowercased()
            return .next(try EventParser.generic(deliveryID: id, body: try EventParser.parseJSON(body)))
        }
    }

    /// 3. The trigger: the namespace's rules decide whether the event asks for a session, and which model
    /// and tools (a command may ask; the policy's defaults otherwise).
    private func trigger(_ routed: Routed, _ delivery: Delivery, table: TenantTable) -> Step<Triggered> {
        let policy = routed.policy.policy
        let (match, reason) = TriggerMatcher.match(routed.event, triggers: routed.policy.triggers)
        guard let match else {
            if delivery.validateOnly {
                return .answered(Answer(response: json(200, validBody(namespace: routed.target.namespace, policy: routed.policy, model: policy.models.defaultModel,
                                                                      cost: table.estimatedCost(model: policy.models.defaultModel), currency: routed.budget.currency,
                                                                      warnings: ["the event matches no trigger and would be ignored: \(reason)"])),
                                        outcome: .validated))
            }
            return .answered(ignored(reason, event: routed.event, delivery))
        }
        let model = match.model ?? policy.models.defaultModel
        return .next(Triggered(routed: routed, rule: match.rule, kind: match.kind, model: model, tools: match.tools ?? policy.tools.allowed,
                               cost: table.estimatedCost(model: model) ?? Amount(micros: 0)))
    }

    /// 4. Admission: the Session object and the request the journal decides on (rate, concurrency, budget,
    /// models, tools), under the delivery's deterministic name.
    private func admission(_ triggered: Triggered, _ delivery: Delivery) -> AdmissionRequest {
        let routed = triggered.routed
        let name = Self.sessionName(source: delivery.source, deliveryID: routed.event.deliveryID)
        let object = sessionObject(name: name, target: routed.target, event: routed.event, policy: routed.policy, model: triggered.model,
                                   tools: triggered.tools, rule: triggered.rule, cost: triggered.cost)
        var request = AdmissionRequest(deliveryKey: "\(delivery.source.rawValue):\(routed.event.deliveryID)", sessionName: name,
                                       tenant: routed.target.tenant, namespace: routed.target.namespace, model: triggered.model, tools: triggered.tools,
                                       estimatedCost: triggered.cost, policy: routed.policy, budget: routed.budget, object: object,
                                       intent: IntentWindow.key(namespace: routed.target.namespace, subject: routed.event.subject, kind: triggered.kind))
        request.limitsShared = configuration.sharedAdmission != nil
        return request
    }

    /// 4'. The validate endpoint: what admission would say, recorded nowhere.
    private func validate(_ request: AdmissionRequest, _ triggered: Triggered) -> Answer {
        let routed = triggered.routed
        let (duplicate, violations) = journal.check(request)
        if duplicate == nil, !violations.isEmpty {
            let list: [JSON] = violations.map { ["rule": $0.details["rule"] ?? .string($0.code.rawValue), "message": .string($0.message)] }
            return Answer(response: json(400, ["valid": false, "namespace": .string(routed.target.namespace), "violations": .array(list)]), outcome: .invalid)
        }
        var warnings = ["matched trigger: \(triggered.rule)"]
        if let duplicate { warnings.append("this delivery (or another of the same intent) was already accepted as session \(duplicate)") }
        if routed.policy.policy.approval.required { warnings.append("the namespace requires approval: the session would wait for an approver") }
        return Answer(response: json(200, validBody(namespace: routed.target.namespace, policy: routed.policy, model: triggered.model, cost: triggered.cost,
                                                    currency: routed.budget.currency, warnings: warnings)),
                      outcome: .validated)
    }

    /// 5. The journal: admitted and fsync'd (then the Session is created in the background), a duplicate of
    /// an earlier delivery, or refused by the policy.
    private func record(_ request: AdmissionRequest, _ triggered: Triggered, _ delivery: Delivery) throws(WebhookFailure) -> Answer {
        let routed = triggered.routed
        let (event, namespace) = (routed.event, routed.target.namespace)
        let decided = AdmissionDecisionRecord(source: delivery.source, event: event.event, deliveryID: event.deliveryID, namespace: namespace,
                                              session: request.sessionName, rule: triggered.rule, traceID: delivery.traceID, failure: nil)
        // The shared ledger first (its refusal is the answer), then the journal; what the journal does not admit as
        // this very session gives its reservation back.
        let shared = configuration.sharedAdmission
        let reserved: ClusterAdmission.Outcome?
        do {
            reserved = try shared?.reserve(request)
        } catch {
            var refused = decided
            refused.failure = error
            try tell(refused)
            throw error
        }
        // Another receiver admitted a session for this intent within the window: that session answers.
        let decision: AdmissionDecision
        if case .duplicate(let owner)? = reserved { decision = .duplicate(session: owner) } else { decision = journal.submit(request) }
        // A duplicate of this very session keeps the reservation: the redelivery that reserved first may be answered
        // second, and the Session the journal admitted for the other one runs on it.
        if reserved == .reserved, decision != .admitted(session: request.sessionName), decision != .duplicate(session: request.sessionName) {
            shared?.withdraw(request)
        }
        switch decision {
        case .refused(let failure):
            var refused = decided
            refused.failure = failure
            try tell(refused)
            throw failure
        case .admitted(let session):
            let entry = JournalEntry(deliveryKey: request.deliveryKey, session: session, namespace: namespace, tenant: routed.target.tenant,
                                     object: request.object, approvalRequired: routed.policy.policy.approval.required)
            creator.enqueue(entry)
            try tell(decided)
            try awaitCluster(session, namespace: namespace)
            let outcome = acceptedOutcome()
            configuration.log?(.info, DeliveryLog.line(delivery.source, event: event.event, delivery: event.deliveryID, trace: delivery.traceID, "\(outcome.label) Session/\(namespace)/\(session)"))
            return Answer(response: json(202, .object(acceptedBody(session: session, namespace: namespace, outcome: outcome, now: Date()))), outcome: outcome)
        case .duplicate(let session):
            try awaitCluster(session, namespace: namespace)
            let outcome = acceptedOutcome()
            configuration.log?(.info, DeliveryLog.line(delivery.source, event: event.event, delivery: event.deliveryID, trace: delivery.traceID, "duplicate of Session/\(namespace)/\(session)"))
            var body = acceptedBody(session: session, namespace: namespace, outcome: outcome, now: Date())
            body["duplicate"] = true
            return Answer(response: json(202, .object(body)), outcome: .duplicate)
        }
    }

    /// The decision to `admissionDecided` (the audit trail) before the answer; a hook that fails is a 503.
    private func tell(_ record: AdmissionDecisionRecord) throws(WebhookFailure) {
        guard let hook = configuration.admissionDecided else { return }
        do {
            try hook(record)
        } catch {
            throw WebhookFailure(503, .unavailable, "the admission decision cannot be recorded (\(error)); retry: a redelivery is deduplicated", retryAfter: 5)
        }
    }

    /// `--ack-after cluster`: returns once the Session exists in the API server; otherwise throws the refusal answered
    /// instead of the 202: 503 while it is not there yet (the journal keeps the delivery and creates it later, and a
    /// redelivery is deduplicated by name), 422 when the API server refused it for good.
    private func awaitCluster(_ session: String, namespace: String) throws(WebhookFailure) {
        guard configuration.ackAfter == .cluster else { return }
        switch creator.waitUntilSettled(session, deadline: Date().addingTimeInterval(configuration.clusterAckTimeout)) {
        case .done?: return
        case .failed?:
            throw WebhookFailure(422, .invalidPayload, "the API server refused Session/\(namespace)/\(session) for good; the receiver's log has its answer",
                                 details: ["sessionId": .string(session)])
        default:
            throw WebhookFailure(503, .unavailable, "Session/\(namespace)/\(session) is not in the API server yet; the delivery is kept and created when it answers, and a redelivery is deduplicated",
                                 details: ["sessionId": .string(session)], retryAfter: 5)
        }
    }
}
