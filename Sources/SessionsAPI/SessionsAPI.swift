import Access
import Audit
import Foundation
import HTTPServer
import Model

/// The Sessions API endpoints that need no session controller: `GET /api/v1/whoami`,
/// `GET /api/v1/user/namespaces` and `GET /api/v1/namespaces/{ns}/audit`, as a handler `serve` can mount
/// (nil for paths that are not these). Every answer passes `AccessGate`; every call about a namespace is
/// recorded in the audit trail (denials included) before it is answered, and an audit trail that cannot
/// be written is a 503. Bodies follow specs/contracts/sessions.yaml.
public struct SessionsAPI: Sendable {
    /// What the tenant table says of a namespace, for `/user/namespaces`.
    public struct NamespaceInfo: Sendable, Hashable {
        public var tenant: String
        public var models: [String]
        public var tools: [String]
        public var monthlyBudget: Amount
        public var spent: Amount
        public var currency: String

        public init(tenant: String, models: [String], tools: [String], monthlyBudget: Amount, spent: Amount = Amount(micros: 0), currency: String) {
            self.tenant = tenant
            self.models = models
            self.tools = tools
            self.monthlyBudget = monthlyBudget
            self.spent = spent
            self.currency = currency
        }

        /// From a validated tenant (spent: the namespace's ledger, `NamespacePolicy.status.budget`).
        public init(tenant: Tenant, spent: Amount = Amount(micros: 0)) {
            self.init(tenant: tenant.name, models: tenant.policy.models.allowed, tools: tenant.policy.tools.allowed,
                      monthlyBudget: tenant.policy.budget.monthly, spent: spent, currency: tenant.policy.budget.currency)
        }
    }

    public let gate: AccessGate
    public let permissions: NamespacePermissions
    public let audit: AuditLog
    /// The tenant namespaces now (the tenant table, which follows the tenant repo).
    public let namespaces: @Sendable () -> [String: NamespaceInfo]

    public init(gate: AccessGate, permissions: NamespacePermissions, audit: AuditLog, namespaces: @escaping @Sendable () -> [String: NamespaceInfo]) {
        self.gate = gate
        self.permissions = permissions
        self.audit = audit
        self.namespaces = namespaces
    }

    public func handle(_ request: Request) -> Response? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let traceID = request.headers["x-request-id"].flatMap { $0.count <= 128 ? $0 : nil } ?? UUID().uuidString.lowercased()
        switch parts {
        case ["", "api", "v1", "whoami"]:
            guard request.method == "GET" else { return methodNotAllowed(request, traceID) }
            return whoami(request, traceID)
        case ["", "api", "v1", "user", "namespaces"]:
            guard request.method == "GET" else { return methodNotAllowed(request, traceID) }
            return userNamespaces(request, traceID)
        default:
            guard parts.count == 6, parts[0].isEmpty, parts[1] == "api", parts[2] == "v1", parts[3] == "namespaces", parts[5] == "audit" else { return nil }
            guard request.method == "GET" else { return methodNotAllowed(request, traceID) }
            return auditPage(request, namespace: parts[4], traceID)
        }
    }

    // MARK: - Endpoints

    private func whoami(_ request: Request, _ traceID: String) -> Response {
        switch gate.caller(authorization: request.headers["authorization"]) {
        case .success(let caller): return json(200, caller.json, traceID)
        case .failure(let failure): return answer(failure, traceID)
        }
    }

    private func userNamespaces(_ request: Request, _ traceID: String) -> Response {
        let caller: Caller
        switch gate.caller(authorization: request.headers["authorization"]) {
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
        let items: [JSON] = granted.keys.sorted().compactMap { namespace in
            guard let info = table[namespace], let level = granted[namespace]?.level else { return nil }
            let remaining = Amount(micros: info.monthlyBudget.micros - info.spent.micros)
            return ["namespace": .string(namespace), "tenant": .string(info.tenant), "permission": .string(level.rawValue),
                    "canApprove": .bool(granted[namespace]?.canApprove ?? false),
                    "policy": ["models": .strings(info.models), "tools": .strings(info.tools),
                               "budget": ["monthly": .string(info.monthlyBudget.description), "spent": .string(info.spent.description),
                                          "remaining": .string(remaining.description), "currency": .string(info.currency)]]]
        }
        return json(200, ["namespaces": .array(items)], traceID)
    }

    private func auditPage(_ request: Request, namespace: String, _ traceID: String) -> Response {
        let caller: Caller
        switch gate.caller(authorization: request.headers["authorization"]) {
        case .success(let found): caller = found
        case .failure(let failure): return answer(failure, traceID)
        }
        if case .failure(let failure) = gate.authorize(caller, .audit, namespace: namespace) {
            return failure.status == 403 ? recorded(failure, namespace: namespace, actor: caller.user, traceID) : answer(failure, traceID)
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
            return answer(AccessFailure(status: 503, error: "unavailable", message: "the audit trail cannot be read or written: \(error)", details: [:],
                                        headers: ["Retry-After": "1"]), traceID)
        }
    }

    // MARK: - Answers

    /// A denial, recorded before it is answered (a trail that cannot be written turns it into a 503).
    private func recorded(_ failure: AccessFailure, namespace: String, actor: String, _ traceID: String) -> Response {
        do {
            try audit.append(AuditRecord(namespace: namespace, actor: actor, action: "view", resource: "sessions/audit", outcome: "denied",
                                         details: ["message": .string(failure.message)], traceID: traceID))
        } catch {
            return answer(AccessFailure(status: 503, error: "unavailable", message: "the audit trail cannot be written: \(error)", details: [:],
                                        headers: ["Retry-After": "1"]), traceID)
        }
        return answer(failure, traceID)
    }

    private func invalid(_ field: String, _ message: String, _ traceID: String) -> Response {
        answer(AccessFailure(status: 400, error: "invalid_request", message: message, details: ["fields": .strings([field])], headers: [:]), traceID)
    }

    private func methodNotAllowed(_ request: Request, _ traceID: String) -> Response {
        var response = answer(AccessFailure(status: 405, error: "method_not_allowed", message: "\(request.method.prefix(16)) is not served on \(request.path); use GET",
                                            details: [:], headers: [:]), traceID)
        response.headers["Allow"] = "GET"
        return response
    }

    private func answer(_ failure: AccessFailure, _ traceID: String) -> Response {
        var response = json(failure.status, failure.body(traceID: traceID), traceID)
        for (name, value) in failure.headers { response.headers[name] = value }
        return response
    }

    private func json(_ status: Int, _ body: JSON, _ traceID: String) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json", "X-Trace-Id": traceID, "Cache-Control": "no-store"], body: Data(body.compactBytes))
    }
}
