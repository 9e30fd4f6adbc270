import Access
import Apply
import Artifacts
import Audit
import Foundation
import HTTPServer
import Model

/// The Sessions API (specs/contracts/sessions.yaml) as a handler `serve` mounts: nil for paths that are not its
/// own. Every answer passes `AccessGate`; every call about a namespace is recorded in the audit trail (denials
/// included) before it is answered, and an audit trail that cannot be written is a 503. The endpoints are the
/// `routes` table, each handler in a file of its own.
public struct SessionsAPI: Sendable {
    /// What the tenant table says of a namespace, for `/user/namespaces`.
    public struct NamespaceInfo: Sendable, Hashable {
        public var tenant: String
        public var models: [String]
        public var tools: [String]
        public var monthlyBudget: Amount
        public var spent: Amount
        public var currency: String
        /// The namespace whose NamespacePolicy status holds the tenant's budget ledger (`spec.tenant.ledgerNamespace`):
        /// with `cluster`, `spent` is read from there. Nil: `spent` as given.
        public var ledgerNamespace: String?

        public init(tenant: String, models: [String], tools: [String], monthlyBudget: Amount, spent: Amount = Amount(micros: 0), currency: String,
                    ledgerNamespace: String? = nil) {
            self.ledgerNamespace = ledgerNamespace
            self.tenant = tenant
            self.models = models
            self.tools = tools
            self.monthlyBudget = monthlyBudget
            self.spent = spent
            self.currency = currency
        }

        /// From a validated tenant (its ledger on its first namespace, as Render names it).
        public init(tenant: Tenant, spent: Amount = Amount(micros: 0)) {
            self.init(tenant: tenant.name, models: tenant.policy.models.allowed, tools: tenant.policy.tools.allowed,
                      monthlyBudget: tenant.policy.budget.monthly, spent: spent, currency: tenant.policy.budget.currency,
                      ledgerNamespace: tenant.namespaces.first?.name)
        }
    }

    public let gate: AccessGate
    public let permissions: NamespacePermissions
    public let audit: AuditLog
    /// The tenant namespaces now (the tenant table, which follows the tenant repo).
    public let namespaces: @Sendable () -> [String: NamespaceInfo]
    /// Where Sessions are read and intents (stop, approval) written; nil: the session endpoints answer 503.
    public var cluster: KubeClient? = nil
    /// Where the runners' artifacts are kept; nil: the artifact endpoints answer 503.
    public var artifacts: (any ArtifactStore)? = nil
    /// The webhooks' admission (models, tools, concurrency, rate, budget, approval), injected by `serve`, that
    /// creates and reruns go through; nil: they answer 503.
    public var admit: SessionAdmitter? = nil
    /// TokenReview for the runners' projected tokens (audience `tenantry`), for the artifact upload.
    public var runnerTokens: TokenReviewer? = nil
    /// The shared watches and timings of the streaming endpoints (events, logs); nil: they answer 503.
    public var streams: SessionStreams? = nil
    /// Every Session from one watch, for list and get; nil (or not yet in step): they ask the cluster.
    public var sessionIndex: SessionIndex? = nil

    public init(gate: AccessGate, permissions: NamespacePermissions, audit: AuditLog, namespaces: @escaping @Sendable () -> [String: NamespaceInfo]) {
        self.gate = gate
        self.permissions = permissions
        self.audit = audit
        self.namespaces = namespaces
    }

    /// Every endpoint: method, path template, handler. A new endpoint is one line here.
    public static let routes: [Route] = [
        Route("GET", "/api/v1/whoami") { $0.whoami($1) },
        Route("GET", "/api/v1/user/namespaces") { $0.userNamespaces($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/audit") { $0.auditPage($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/sessions") { $0.listSessions($1) },
        Route("POST", "/api/v1/namespaces/{namespace}/sessions") { $0.createSession($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/sessions/{session}") { $0.getSession($1) },
        Route("POST", "/api/v1/namespaces/{namespace}/sessions/{session}/stop") { $0.stopSession($1) },
        Route("POST", "/api/v1/namespaces/{namespace}/sessions/{session}/approve") { $0.decide($1, .approved) },
        Route("POST", "/api/v1/namespaces/{namespace}/sessions/{session}/reject") { $0.decide($1, .rejected) },
        Route("POST", "/api/v1/namespaces/{namespace}/sessions/{session}/rerun") { $0.rerunSession($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/sessions/{session}/artifacts") { $0.listArtifacts($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/sessions/{session}/artifacts/{name}") { $0.getArtifact($1) },
        Route("PUT", "/api/v1/namespaces/{namespace}/sessions/{session}/artifacts/{name}") { $0.putArtifact($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/events") { $0.sessionEvents($1) },
        Route("GET", "/api/v1/namespaces/{namespace}/sessions/{session}/logs") { $0.sessionLogs($1) },
    ]

    /// The answer, or nil for a path no route has (another handler's). A path that has routes but not for this
    /// method is 405 with `Allow`.
    public func handle(_ request: Request) -> Response? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false)
        let traceID = request.headers["x-request-id"].flatMap { $0.count <= 128 ? $0 : nil } ?? UUID().uuidString.lowercased()
        var allowed: [String] = []
        for route in Self.routes {
            guard let parameters = route.match(parts) else { continue }
            if route.method == request.method {
                return route.handler(self, APICall(request: request, parameters: parameters, traceID: traceID))
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? nil : methodNotAllowed(request, allow: allowed, traceID)
    }

    // MARK: - Endpoints

    func whoami(_ call: APICall) -> Response {
        let traceID = call.traceID
        switch gate.caller(authorization: call.authorization) {
        case .success(let caller): return json(200, caller.json, traceID)
        case .failure(let failure): return answer(failure, traceID)
        }
    }

    func userNamespaces(_ call: APICall) -> Response {
        let traceID = call.traceID
        let caller: Caller
        switch gate.caller(authorization: call.authorization) {
        case .success(let found): caller = found
        case .failure(let failure): return answer(failure, traceID)
        }
        let table = namespaces()
        let granted: [String: NamespacePermission]
        do {
            granted = try permissions.permissions(of: caller, in: Array(table.keys))
        } catch {
            return answer(AccessFailure(status: 503, error: "unavailable", message: "cannot read the cluster's RBAC: \(error); try again",
                                        details: [:], headers: ["Retry-After": "1"]), traceID)
        }
        let ledgers = tenantLedgers(of: granted.keys.compactMap { table[$0] })
        let items: [JSON] = granted.keys.sorted().compactMap { namespace in
            guard var info = table[namespace], let level = granted[namespace]?.level else { return nil }
            var remaining = Amount(micros: info.monthlyBudget.micros - info.spent.micros)
            if let ledger = info.ledgerNamespace.flatMap({ ledgers[$0] }) { (info.spent, remaining) = (ledger.spent, ledger.remaining) }
            return ["namespace": .string(namespace), "tenant": .string(info.tenant), "permission": .string(level.rawValue),
                    "canApprove": .bool(granted[namespace]?.canApprove ?? false),
                    "policy": ["models": .strings(info.models), "tools": .strings(info.tools),
                               "budget": ["monthly": .string(info.monthlyBudget.description), "spent": .string(info.spent.description),
                                          "remaining": .string(remaining.description), "currency": .string(info.currency)]]]
        }
        return json(200, ["namespaces": .array(items)], traceID)
    }

    func auditPage(_ call: APICall) -> Response {
        let (request, namespace, traceID) = (call.request, call.namespace, call.traceID)
        let caller: Caller
        switch gate.caller(authorization: call.authorization) {
        case .success(let found): caller = found
        case .failure(let failure): return answer(failure, traceID)
        }
        if case .failure(let failure) = gate.authorize(caller, .audit, namespace: namespace) {
            return failure.status == 403 ? recorded(failure, namespace: namespace, actor: caller.user, action: "view", resource: "sessions/audit", traceID) : answer(failure, traceID)
        }
        var limit = 100
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...500).contains(value) else { return invalid("limit", "limit must be a whole number from 1 to 500, got \"\(text.prefix(40))\"", traceID) }
            limit = value
        }
        var before: Int64?
        if let text = request.query["continue"] {
            guard let value = Int64(text), value > 0 else { return invalid("continue", "continue must be the token of the previous page", traceID) }
            before = value
        }
        var since: Date?
        if let text = request.query["since"] {
            guard let date = ISO8601DateFormatter().date(from: text) else { return invalid("since", "since must be an RFC 3339 time such as 2026-12-01T09:00:00Z", traceID) }
            since = date
        }
        do {
            try audit.append(AuditRecord(namespace: namespace, actor: caller.user, action: "view", resource: "sessions/audit", outcome: "succeeded", traceID: traceID))
            let page = try audit.entries(namespace: namespace, session: request.query["session"], actor: request.query["actor"], action: request.query["action"],
                                         since: since, before: before, limit: limit + 1)
            var body: JSONObject = ["entries": .array(page.prefix(limit).map(\.json)), "hasMore": .bool(page.count > limit)]
            if page.count > limit, let last = page.prefix(limit).last { body["continue"] = .string(String(last.sequence)) }
            return json(200, .object(body), traceID)
        } catch {
            return unavailable("the audit trail cannot be read or written: \(error)", traceID)
        }
    }
}
