import Foundation
import HTTPServer
import Model
import Support
import Synchronization

/// The webhook endpoints as one request handler: proves the sender, resolves the tenant namespace from
/// the route table or the API key (never from the payload), matches triggers, admits against the
/// NamespacePolicy, writes the journal (fsync'd) and only then answers 202. Sessions are created in the
/// background by the SessionCreator.
/// What a 202 promises. `journal`: the delivery is fsync'd on this replica's disk (lost if the disk is).
/// `cluster`: its Session exists in the API server, whose storage is the durable log (`serve --ack-after cluster`).
public enum AckAfter: String, Sendable, CaseIterable {
    case journal, cluster
}

public final class WebhookService: Sendable {
    public struct Configuration: Sendable {
        public var secrets: WebhookSecrets
        /// Largest body per source; larger ones get 413. GitHub caps its deliveries at 25 MB.
        public var bodyLimits: [WebhookSource: Int] = [.github: 25 << 20, .jira: 10 << 20, .slack: 1 << 20, .generic: 1 << 20]
        public var clock: WallClock = .system
        /// One line per request (no secrets, keys or payloads); nil builds no line at all.
        public var log: DeliveryLog.Sink? = nil
        /// Plans pull requests on the tenant repository itself (instead of matching them to a tenant's triggers).
        public var tenantRepoReviewer: (any PullRequestReviewer)? = nil
        /// Starts the reconcile of a repository this process follows, on a push to it.
        public var repositoryPushed: RepositoryPushed? = nil
        /// When a delivery is answered 202: once fsync'd in the local journal, or once its Session exists in the API server.
        public var ackAfter: AckAfter = .journal
        /// With `.cluster`, how long a request waits for its Session before it is answered 503 (the journal keeps it).
        public var clusterAckTimeout: TimeInterval = 10
        /// `serve --admission cluster`: budget, concurrency and rate decided on the NamespacePolicy's shared ledger.
        public var sharedAdmission: ClusterAdmission? = nil
        /// Told every admission decision (admitted, refused with the rule) before the delivery is answered, e.g. the
        /// audit trail; when it throws the delivery is answered 503 (the sender retries; a redelivery is deduplicated).
        public var admissionDecided: AdmissionDecided? = nil

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
                configuration.sharedAdmission?.reap(namespace: namespace, ledgerNamespace: table.policies[namespace]?.ledgerNamespace ?? namespace,
                                                    live: Set(names))
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
        var source: WebhookSource?
        let answer = route(request, traceID: traceID, source: &source)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if let source {
            metrics.record(source: source, outcome: answer.outcome, seconds: seconds)
        }
        var answered = answer.response
        answered.headers["X-Trace-Id"] = traceID
        return answered
    }

    /// An answer and what it counts as.
    struct Answer {
        var response: Response
        var outcome: WebhookOutcome
    }

    private func route(_ request: Request, traceID: String, source sourceSeen: inout WebhookSource?) -> Answer {
        switch request.path {
        case "/healthz":
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET", traceID) }
            return Answer(response: text(200, "ok\n"), outcome: .ok)
        case "/readyz":
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET", traceID) }
            guard let table = tenantTable else { return Answer(response: text(503, "tenant table not loaded\n"), outcome: .notReady) }
            return Answer(response: text(200, "ok: revision \(table.revision), \(table.policies.count) namespaces\n"), outcome: .ok)
        case "/metrics":
            guard request.method == "GET" else { return methodNotAllowed("GET", traceID) }
            let body = metrics.text(journalDepth: journal.depth, ready: tenantTable != nil)
            return Answer(response: Response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(body.utf8)), outcome: .ok)
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
        sourceSeen = source
        guard request.method == "POST" else { return methodNotAllowed("POST", traceID) }
        let delivery = Delivery(source: source, headers: request.headers, body: request.body, validateOnly: rest.count == 2,
                                traceID: traceID, now: configuration.clock.now())
        do {
            return try intake(delivery)
        } catch {
            configuration.log?(.warning, "webhook source=\(source.rawValue) trace=\(traceID) refused: \(error.description)")
            return failure(error, traceID)
        }
    }

    func apiKeyTarget(_ key: String?, source: WebhookSource, table: TenantTable) throws(WebhookFailure) -> TenantTable.Target? {
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

    func sessionObject(name: String, target: TenantTable.Target, event: InboundEvent, policy: NamespacePolicy, model: String,
                               tools: [String], rule: String, cost: Amount) -> JSONObject {
        sessionObject(name: name, target: target,
                      trigger: Session.Trigger(source: Session.Source(rawValue: event.source.rawValue) ?? .generic, event: event.event,
                                               deliveryID: event.deliveryID, payload: event.payload),
                      policy: policy, config: ["model": .string(model), "tools": .strings(tools)], rule: rule, cost: cost)
    }

    /// The Session a delivery or a manual request asks for, with the policy's constraints copied in.
    func sessionObject(name: String, target: TenantTable.Target, trigger: Session.Trigger, policy: NamespacePolicy, config: JSONObject,
                       rule: String, cost: Amount) -> JSONObject {
        let session = Session(
            name: name, namespace: target.namespace, trigger: trigger,
            framework: Session.Framework(type: policy.policy.runner.type, version: policy.policy.runner.version, config: config),
            constraints: Session.Constraints(allowedModels: policy.policy.models.allowed, budget: policy.policy.budget.monthly,
                                             allowedTools: policy.policy.tools.allowed, approvalRequired: policy.policy.approval.required))
        var object = session.object
        var metadata = object["metadata"]?.objectValue ?? [:]
        var labels: JSONObject = ["tenantry.dev/tenant": .string(target.tenant), "ambient.ai/source": .string(trigger.source.rawValue)]
        if policy.policy.approval.required { labels["ambient.ai/approval"] = "pending" }
        metadata["labels"] = .object(labels)
        var annotations: JSONObject = ["tenantry.dev/trigger": .string(rule), "tenantry.dev/estimated-cost": .string(cost.description)]
        // The controller settles such a Session out of the shared ledger's `live` list (SessionController+Settlement).
        if configuration.sharedAdmission != nil { annotations["tenantry.dev/admission"] = "cluster" }
        metadata["annotations"] = .object(annotations)
        object["metadata"] = .object(metadata)
        return object
    }

    // MARK: Answers

    /// Accepted while the creator keeps up; queued when it is failing or far behind.
    func acceptedOutcome() -> WebhookOutcome {
        creator.healthy && creator.backlog < 1000 ? .accepted : .queued
    }

    func acceptedBody(session: String, namespace: String, outcome: WebhookOutcome, now: Date) -> JSONObject {
        let start = outcome == .accepted ? now : now.addingTimeInterval(30)
        return ["sessionId": .string(session), "namespace": .string(namespace), "status": .string(outcome.label),
                "estimatedStartTime": .string(Timestamp.rfc3339(start))]
    }

    /// A pull request on the tenant repository: planned and posted on GitHub in the background (GitHub waits
    /// ten seconds at most for the answer); the 202 says so.
    func planPullRequest(_ body: [UInt8], reviewer: any PullRequestReviewer, delivery: String, traceID: String) -> Answer {
        let log = configuration.log
        DispatchQueue.global(qos: .utility).async {
            do {
                let words = try reviewer.reviewForLog(body)
                log?(.info, DeliveryLog.line(.github, event: "pull_request", delivery: delivery, trace: traceID, words))
            } catch {
                log?(.warning, DeliveryLog.line(.github, event: "pull_request", delivery: delivery, trace: traceID, "plan not posted: \(error)"))
            }
        }
        log?(.info, DeliveryLog.line(.github, event: "pull_request", delivery: delivery, trace: traceID, "planning \(reviewer.repository)"))
        return Answer(response: json(202, ["status": "planning", "repository": .string(reviewer.repository)]), outcome: .planning)
    }

    func ignored(_ reason: String, event: InboundEvent, _ delivery: Delivery) -> Answer {
        configuration.log?(.info, DeliveryLog.line(delivery.source, event: event.event, delivery: event.deliveryID, trace: delivery.traceID, "ignored"))
        return Answer(response: json(202, ["status": "ignored", "reason": .string(reason)]), outcome: .ignored)
    }

    func validBody(namespace: String, policy: NamespacePolicy, model: String, cost: Amount?, currency: String, warnings: [String]) -> JSON {
        ["valid": true, "namespace": .string(namespace),
         "framework": ["type": .string(policy.policy.runner.type), "version": .string(policy.policy.runner.version), "model": .string(model)],
         "estimatedCost": .string((cost ?? Amount(micros: 0)).description), "currency": .string(currency), "warnings": .strings(warnings)]
    }

    private func failure(_ failure: WebhookFailure, _ traceID: String) -> Answer {
        var response = json(failure.status, failure.body(traceID: traceID))
        if let seconds = failure.retryAfter { response.headers["Retry-After"] = String(seconds) }
        if failure.code == .methodNotAllowed, let allow = failure.details["allow"]?.stringValue { response.headers["Allow"] = allow }
        return Answer(response: response, outcome: .refused(failure.code))
    }

    private func methodNotAllowed(_ allowed: String, _ traceID: String) -> Answer {
        failure(WebhookFailure(405, .methodNotAllowed, "this endpoint takes \(allowed) only", details: ["allow": .string(allowed)]), traceID)
    }

    func json(_ status: Int, _ body: JSON) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
    }

    private func text(_ status: Int, _ body: String) -> Response {
        Response(status: status, headers: ["Content-Type": "text/plain"], body: Data(body.utf8))
    }
}
