import Foundation
import GitSync
import HTTPServer
import Model
import Plan
import Support
import Synchronization

/// The webhook endpoints as one request handler: proves the sender, resolves the tenant namespace from
/// the route table or the API key (never from the payload), matches triggers, admits against the
/// NamespacePolicy, writes the journal (fsync'd) and only then answers 202. Sessions are created in the
/// background by the SessionCreator.
public final class WebhookService: Sendable {
    public struct Configuration: Sendable {
        public var secrets: WebhookSecrets
        /// Largest body per source; larger ones get 413. GitHub caps its deliveries at 25 MB.
        public var bodyLimits: [WebhookSource: Int] = [.github: 25 << 20, .jira: 10 << 20, .slack: 1 << 20, .generic: 1 << 20]
        public var clock: @Sendable () -> Date = Date.init
        /// One line per request (no secrets, keys or payloads); nil builds no line at all.
        public var log: (@Sendable (String) -> Void)? = nil
        /// Plans pull requests on the tenant repository itself (instead of matching them to a tenant's triggers).
        public var tenantRepoReviewer: TenantRepoReviewer? = nil

        public init(secrets: WebhookSecrets) { self.secrets = secrets }

        public var largestBodyLimit: Int { bodyLimits.values.max() ?? (25 << 20) }
    }

    public static let basePath = "/api/v1/webhooks/"

    public let configuration: Configuration
    public let journal: Journal
    public let creator: SessionCreator
    public let metrics: WebhookMetrics
    private let table = Mutex<TenantTable?>(nil)

    public init(configuration: Configuration, journal: Journal, creator: SessionCreator, metrics: WebhookMetrics) {
        self.configuration = configuration
        self.journal = journal
        self.creator = creator
        self.metrics = metrics
    }

    /// Swaps in the table of a newly reconciled revision; requests already past their lookup keep the old one.
    public func replaceTenantTable(_ table: TenantTable) {
        self.table.withLock { $0 = table }
    }

    public var tenantTable: TenantTable? { table.withLock { $0 } }

    /// Queues every unfinished journal entry for creation (at start: the replay after a crash).
    @discardableResult
    public func replayJournal() throws -> Int {
        let entries = try journal.unfinished()
        for entry in entries { creator.enqueue(entry) }
        return entries.count
    }

    /// Asks the cluster which Sessions of each known namespace are not in a final phase (for the concurrency limit).
    public func refreshLiveSessions(using writer: any SessionWriter) {
        guard let table = tenantTable else { return }
        for namespace in table.policies.keys.sorted() {
            if let names = try? writer.liveSessions(namespace: namespace) {
                journal.setLive(namespace: namespace, sessions: Set(names))
            }
        }
    }

    /// The deterministic Session name of a delivery: the same delivery always names the same object.
    public static func sessionName(source: WebhookSource, deliveryID: String) -> String {
        "\(source.rawValue)-\(Crypto.sha256Hex(Array("\(source.rawValue):\(deliveryID)".utf8)).prefix(20))"
    }

    // MARK: Routing of requests

    public func handle(_ request: Request) -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let traceID = WebhookFailure.newTraceID()
        var source = "none"
        let (response, outcome) = route(request, traceID: traceID, source: &source)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if source != "none" {
            metrics.record(source: source, outcome: outcome, seconds: seconds)
        }
        var answered = response
        answered.headers["X-Trace-Id"] = traceID
        return answered
    }

    private func route(_ request: Request, traceID: String, source sourceName: inout String) -> (Response, String) {
        switch request.path {
        case "/healthz":
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET", traceID) }
            return (text(200, "ok\n"), "ok")
        case "/readyz":
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET", traceID) }
            guard let table = tenantTable else { return (text(503, "tenant table not loaded\n"), "not_ready") }
            return (text(200, "ok: revision \(table.revision), \(table.policies.count) namespaces\n"), "ok")
        case "/metrics":
            guard request.method == "GET" else { return methodNotAllowed("GET", traceID) }
            let body = metrics.text(journalDepth: journal.depth, ready: tenantTable != nil)
            return (Response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(body.utf8)), "ok")
        default:
            break
        }
        guard request.path.hasPrefix(Self.basePath) else {
            return failure(WebhookFailure(404, .notFound, "no endpoint at \(request.path); webhooks are POSTed to \(Self.basePath){github|jira|slack|generic}"), traceID)
        }
        let rest = request.path.dropFirst(Self.basePath.count).split(separator: "/", omittingEmptySubsequences: false)
        guard (rest.count == 1 || (rest.count == 2 && rest[1] == "validate")), let source = WebhookSource(rawValue: String(rest[0])) else {
            var message = "unknown webhook source or endpoint \(request.path); sources: github, jira, slack, generic"
            if let guess = Suggest.closest(to: String(rest.first ?? ""), among: WebhookSource.allCases.map(\.rawValue)) {
                message += " (did you mean \(Self.basePath)\(guess)?)"
            }
            return failure(WebhookFailure(404, .notFound, message), traceID)
        }
        sourceName = source.rawValue
        guard request.method == "POST" else { return methodNotAllowed("POST", traceID) }
        do {
            return try deliver(request, source: source, validateOnly: rest.count == 2, traceID: traceID)
        } catch {
            configuration.log?("webhook source=\(source.rawValue) trace=\(traceID) refused: \(error.description)")
            return failure(error, traceID)
        }
    }

    private func deliver(_ request: Request, source: WebhookSource, validateOnly: Bool, traceID: String) throws(WebhookFailure) -> (Response, String) {
        let limit = configuration.bodyLimits[source] ?? configuration.largestBodyLimit
        guard request.body.count <= limit else {
            throw WebhookFailure(413, .payloadTooLarge, "the body is \(request.body.count) bytes; \(source.rawValue) deliveries may be at most \(limit) bytes")
        }
        guard let table = tenantTable else {
            throw WebhookFailure(503, .notReady, "the tenant table is not loaded yet; retry shortly", retryAfter: 5)
        }
        let headers = request.headers
        let now = configuration.clock()
        // 1. The sender.
        switch source {
        case .github: try SenderVerification.verifyGitHub(headers: headers, body: request.body, secret: configuration.secrets.github)
        case .jira: try SenderVerification.verifyJira(headers: headers, body: request.body, secret: configuration.secrets.jira)
        case .slack: try SenderVerification.verifySlack(headers: headers, body: request.body, secret: configuration.secrets.slack, now: now)
        case .generic: break
        }
        // 2. The API key, when given (required for generic): it resolves a namespace server-side.
        let keyTarget = try apiKeyTarget(headers["x-api-key"], source: source, table: table)
        // 3. The body.
        let event: InboundEvent
        switch source {
        case .github:
            guard let name = headers["x-github-event"], let delivery = headers["x-github-delivery"], !delivery.isEmpty else {
                throw WebhookFailure(400, .invalidPayload, "missing X-GitHub-Event or X-GitHub-Delivery header")
            }
            let body = try EventParser.parseJSON(request.body)
            if name == "ping" {
                return (json(200, ["status": "ok", "message": "pong", "zen": body["zen"] ?? .null]), "ping")
            }
            if name == "pull_request", let reviewer = configuration.tenantRepoReviewer, reviewer.concerns(Array(request.body)) {
                return planPullRequest(Array(request.body), reviewer: reviewer, delivery: delivery, traceID: traceID)
            }
            // A push to a repository this process follows (serve --reconcile) starts its reconcile now.
            if name == "push", let url = body["repository"]?["clone_url"]?.stringValue, SourceRefresh.requestRefresh(repositoryURL: url) > 0 {
                configuration.log?("webhook source=github event=push delivery=\(delivery) trace=\(traceID) reconcile of \(url) started")
                return (json(202, ["status": "ignored", "reason": "push to the tenant repository: its reconcile starts now"]), "refresh")
            }
            event = EventParser.github(event: name, deliveryID: delivery, body: body)
        case .jira:
            guard let delivery = headers["x-atlassian-webhook-identifier"], !delivery.isEmpty else {
                throw WebhookFailure(400, .invalidPayload, "missing X-Atlassian-Webhook-Identifier header")
            }
            event = try EventParser.jira(deliveryID: delivery, body: try EventParser.parseJSON(request.body))
        case .slack:
            if (headers["content-type"] ?? "").hasPrefix("application/x-www-form-urlencoded") {
                event = try EventParser.slackCommand(form: try EventParser.formFields(request.body))
            } else {
                let body = try EventParser.parseJSON(request.body)
                if body["type"]?.stringValue == "url_verification" {
                    return (json(200, ["challenge": body["challenge"] ?? .null]), "url_verification")
                }
                event = try EventParser.slackEvent(body: body)
            }
        case .generic:
            let delivery = headers["idempotency-key"] ?? headers["x-delivery-id"] ?? UUID().uuidString.lowercased()
            event = try EventParser.generic(deliveryID: delivery, body: try EventParser.parseJSON(request.body))
        }
        // 4. The namespace: the route and the key must agree on the tenant.
        let routeTarget = event.routeKey.flatMap { table.routes[source]?[$0] }
        if let keyTarget, let routeTarget, keyTarget.tenant != routeTarget.tenant {
            throw WebhookFailure(403, .routingConflict,
                                 "the API key belongs to tenant \(keyTarget.tenant) but \(event.routeKey ?? "") is routed to tenant \(routeTarget.tenant); use that tenant's key or fix the routing in the tenant repo",
                                 details: ["keyTenant": .string(keyTarget.tenant), "routeTenant": .string(routeTarget.tenant)])
        }
        guard let target = keyTarget ?? routeTarget, let policy = table.policies[target.namespace],
              let budget = table.budgets[target.tenant] else {
            let what = event.routeKey.map { "\($0) is not routed to any tenant" } ?? "the delivery names nothing routable and carries no API key"
            return ignored(what, source: source, event: event, traceID: traceID)
        }
        // 5. Triggers.
        let (match, reason) = TriggerMatcher.match(event, triggers: policy.triggers)
        guard let match else {
            if validateOnly {
                return (json(200, validBody(namespace: target.namespace, policy: policy, model: policy.policy.models.defaultModel,
                                            cost: table.estimatedCost(model: policy.policy.models.defaultModel),
                                            currency: budget.currency, warnings: ["the event matches no trigger and would be ignored: \(reason)"])), "validated")
            }
            return ignored(reason, source: source, event: event, traceID: traceID)
        }
        // 6. Admission.
        let model = match.model ?? policy.policy.models.defaultModel
        let tools = match.tools ?? policy.policy.tools.allowed
        let cost = table.estimatedCost(model: model) ?? Amount(micros: 0)
        let deliveryKey = "\(source.rawValue):\(event.deliveryID)"
        let name = Self.sessionName(source: source, deliveryID: event.deliveryID)
        let object = sessionObject(name: name, target: target, event: event, policy: policy, model: model, tools: tools, rule: match.rule, cost: cost)
        let admission = AdmissionRequest(deliveryKey: deliveryKey, sessionName: name, tenant: target.tenant, namespace: target.namespace,
                                         model: model, tools: tools, estimatedCost: cost, policy: policy, budget: budget, object: object)
        if validateOnly {
            let (duplicate, violations) = journal.check(admission)
            if duplicate == nil, !violations.isEmpty {
                let list: [JSON] = violations.map { ["rule": $0.details["rule"] ?? .string($0.code.rawValue), "message": .string($0.message)] }
                return (json(400, ["valid": false, "namespace": .string(target.namespace), "violations": .array(list)]), "invalid")
            }
            var warnings = ["matched trigger: \(match.rule)"]
            if let duplicate { warnings.append("this delivery was already accepted as session \(duplicate)") }
            if policy.policy.approval.required { warnings.append("the namespace requires approval: the session would wait for an approver") }
            return (json(200, validBody(namespace: target.namespace, policy: policy, model: model, cost: cost, currency: budget.currency,
                                        warnings: warnings)), "validated")
        }
        switch journal.submit(admission) {
        case .refused(let failure):
            throw failure
        case .admitted(let session):
            let entry = JournalEntry(deliveryKey: deliveryKey, session: session, namespace: target.namespace, tenant: target.tenant,
                                     object: object, approvalRequired: policy.policy.approval.required)
            creator.enqueue(entry)
            let status = acceptedStatus()
            configuration.log?("webhook source=\(source.rawValue) event=\(event.event) delivery=\(event.deliveryID) trace=\(traceID) \(status) Session/\(target.namespace)/\(session) (\(match.rule))")
            return (accepted(session: session, namespace: target.namespace, status: status, now: Date()), status)
        case .duplicate(let session):
            let status = acceptedStatus()
            configuration.log?("webhook source=\(source.rawValue) delivery=\(event.deliveryID) trace=\(traceID) duplicate of Session/\(target.namespace)/\(session)")
            var body = acceptedBody(session: session, namespace: target.namespace, status: status, now: Date())
            body["duplicate"] = true
            return (json(202, .object(body)), "duplicate")
        }
    }

    private func apiKeyTarget(_ key: String?, source: WebhookSource, table: TenantTable) throws(WebhookFailure) -> TenantTable.Target? {
        guard let key, !key.isEmpty else {
            if source == .generic {
                throw WebhookFailure(400, .missingAPIKey, "generic webhooks must carry the tenant's API key in the X-API-Key header")
            }
            return nil
        }
        guard key.count >= 32 else {
            throw WebhookFailure(401, .invalidAPIKey, "the X-API-Key is shorter than 32 characters, so it is no tenant's key")
        }
        // Only the hash is looked up: the key itself is never compared, stored or printed.
        guard let found = table.apiKeys["sha256:" + Crypto.sha256Hex(Array(key.utf8))] else {
            throw WebhookFailure(401, .invalidAPIKey, "the X-API-Key matches no tenant; check the key, or that its sha256 hash is in the tenant file under namespaces[].apiKeys")
        }
        guard found.source == source else {
            throw WebhookFailure(401, .invalidAPIKey, "the X-API-Key is registered for \(found.source.rawValue) webhooks, not \(source.rawValue)")
        }
        return found.target
    }

    private func sessionObject(name: String, target: TenantTable.Target, event: InboundEvent, policy: NamespacePolicy, model: String,
                               tools: [String], rule: String, cost: Amount) -> JSONObject {
        let session = Session(
            name: name, namespace: target.namespace,
            trigger: Session.Trigger(source: Session.Source(rawValue: event.source.rawValue) ?? .generic, event: event.event,
                                     deliveryID: event.deliveryID, payload: event.payload),
            framework: Session.Framework(type: policy.policy.runner.type, version: policy.policy.runner.version,
                                         config: ["model": .string(model), "tools": .strings(tools)]),
            constraints: Session.Constraints(allowedModels: policy.policy.models.allowed, budget: policy.policy.budget.monthly,
                                             allowedTools: policy.policy.tools.allowed, approvalRequired: policy.policy.approval.required))
        var object = session.object
        var metadata = object["metadata"]?.objectValue ?? [:]
        var labels: JSONObject = ["tenantry.dev/tenant": .string(target.tenant), "ambient.ai/source": .string(event.source.rawValue)]
        if policy.policy.approval.required { labels["ambient.ai/approval"] = "pending" }
        metadata["labels"] = .object(labels)
        metadata["annotations"] = ["tenantry.dev/trigger": .string(rule), "tenantry.dev/estimated-cost": .string(cost.description)]
        object["metadata"] = .object(metadata)
        return object
    }

    // MARK: Answers

    private func acceptedStatus() -> String {
        creator.healthy && creator.backlog < 1000 ? "accepted" : "queued"
    }

    private func acceptedBody(session: String, namespace: String, status: String, now: Date) -> JSONObject {
        let start = status == "accepted" ? now : now.addingTimeInterval(30)
        return ["sessionId": .string(session), "namespace": .string(namespace), "status": .string(status),
                "estimatedStartTime": .string(Timestamp.rfc3339(start))]
    }

    private func accepted(session: String, namespace: String, status: String, now: Date) -> Response {
        json(202, .object(acceptedBody(session: session, namespace: namespace, status: status, now: now)))
    }

    /// A pull request on the tenant repository: planned and posted on GitHub in the background (GitHub waits
    /// ten seconds at most for the answer); the 202 says so.
    private func planPullRequest(_ body: [UInt8], reviewer: TenantRepoReviewer, delivery: String, traceID: String) -> (Response, String) {
        let log = configuration.log
        DispatchQueue.global(qos: .utility).async {
            do {
                let outcome = try reviewer.review(body)
                log?("webhook source=github event=pull_request delivery=\(delivery) trace=\(traceID) plan: \(outcome)")
            } catch {
                log?("webhook source=github event=pull_request delivery=\(delivery) trace=\(traceID) plan not posted: \(error)")
            }
        }
        log?("webhook source=github event=pull_request delivery=\(delivery) trace=\(traceID) planning \(reviewer.repository)")
        return (json(202, ["status": "planning", "repository": .string(reviewer.repository)]), "planning")
    }

    private func ignored(_ reason: String, source: WebhookSource, event: InboundEvent, traceID: String) -> (Response, String) {
        configuration.log?("webhook source=\(source.rawValue) event=\(event.event) delivery=\(event.deliveryID) trace=\(traceID) ignored: \(reason)")
        return (json(202, ["status": "ignored", "reason": .string(reason)]), "ignored")
    }

    private func validBody(namespace: String, policy: NamespacePolicy, model: String, cost: Amount?, currency: String, warnings: [String]) -> JSON {
        ["valid": true, "namespace": .string(namespace),
         "framework": ["type": .string(policy.policy.runner.type), "version": .string(policy.policy.runner.version), "model": .string(model)],
         "estimatedCost": .string((cost ?? Amount(micros: 0)).description), "currency": .string(currency), "warnings": .strings(warnings)]
    }

    private func failure(_ failure: WebhookFailure, _ traceID: String) -> (Response, String) {
        var response = json(failure.status, failure.body(traceID: traceID))
        if let seconds = failure.retryAfter { response.headers["Retry-After"] = String(seconds) }
        if failure.code == .methodNotAllowed, let allow = failure.details["allow"]?.stringValue { response.headers["Allow"] = allow }
        return (response, failure.code.rawValue)
    }

    private func methodNotAllowed(_ allowed: String, _ traceID: String) -> (Response, String) {
        failure(WebhookFailure(405, .methodNotAllowed, "this endpoint takes \(allowed) only", details: ["allow": .string(allowed)]), traceID)
    }

    private func json(_ status: Int, _ body: JSON) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
    }

    private func text(_ status: Int, _ body: String) -> Response {
        Response(status: status, headers: ["Content-Type": "text/plain"], body: Data(body.utf8))
    }
}
