import Access
import ApplyTestSupport
import Audit
import Foundation
import HTTPClient
import HTTPServer
import LocalCluster
import Model
import Reconciler
import SessionsAPI
import Support
import TestSupport
import WebUI
import XCTest

/// The web UI over the real SessionsAPI (whoami, user/namespaces: authentication by TokenReview, RBAC from the
/// example tenants reconciled into a local cluster), served over HTTP as `serve` mounts it. `sessions` answers
/// the list and get operations from contract-shaped bodies (checked against specs/contracts/sessions.yaml), after
/// the real AccessGate's SubjectAccessReview, for the page tests that need sessions the api branch's endpoints
/// are not merged to give yet.
final class UIFixture: @unchecked Sendable {
    let cluster: TestAPIServer
    let server: HTTPServer
    let key = Crypto.randomBytes(32)
    let http = HTTPClient()
    let sessions: [String: [JSON]]
    var base: String { "http://127.0.0.1:\(server.port)" }

    /// With `oidc`, the API trusts that issuer and the UI logs people in with it.
    init(sessions: [String: [JSON]] = [:], oidc: (issuer: OIDCIssuerConfiguration, login: OIDCLogin.Configuration)? = nil) throws {
        cluster = try TestAPIServer()
        let client = try cluster.client()
        let result = try Reconciler(client: client).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
        var table: [String: SessionsAPI.NamespaceInfo] = [:]
        for tenant in try Examples.rendered().tenants.compactMap(\.tenant) {
            for namespace in tenant.namespaces { table[namespace.name] = SessionsAPI.NamespaceInfo(tenant: tenant) }
        }
        let frozen = table
        let reviewer = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer]))
        let gate = AccessGate(authenticator: Authenticator(issuers: oidc.map { [OIDCIssuer($0.issuer)] } ?? [], tokenReviewer: reviewer),
                              reviewer: AccessReviewer(client: client))
        let api = SessionsAPI(gate: gate, permissions: NamespacePermissions(client: client, maxAge: 0.001),
                              audit: try AuditLog(path: cluster.directory + "/audit.db"), namespaces: { frozen })
        self.sessions = sessions
        let known = sessions
        let handler: @Sendable (Request) -> Response? = { request in
            UIFixture.contractSessions(request, gate: gate, sessions: known) ?? api.handle(request)
        }
        var options = WebUI.Options(api: handler, key: key)
        options.catalog = { WebUI.Catalog(frameworks: ["script", "claude-code"], estimates: ["claude-sonnet-4-5": Amount("2.50")!], currency: "USD") }
        options.oidc = oidc.map { OIDCLogin($0.login) }
        let ui = WebUI(options)
        server = try HTTPServer(HTTPServer.Configuration()) { request in handler(request) ?? ui.handle(request) ?? Response(status: 404) }
    }

    func stop() { server.stop() }

    func token(_ user: String, _ groups: [String]) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    func send(_ method: String, _ path: String, cookie: String? = nil, form: [(String, String)]? = nil) throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = []
        if let cookie { headers.append(("Cookie", cookie)) }
        var body: [UInt8]?
        if let form {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&").utf8)
        }
        return try http.send(HTTPRequest(method: method, url: base + path, headers: headers, body: body))
    }

    /// Logs in with a token as a browser does: the login page's cookie and CSRF token, then the form post.
    /// The session cookie (`name=value`) and its CSRF token.
    func logIn(_ token: String) throws -> (cookie: String, csrf: String) {
        let page = try send("GET", "/login")
        let anonymous = try XCTUnwrap(UIFixture.cookie(page))
        let csrf = try XCTUnwrap(UIFixture.csrf(page.text))
        let answer = try send("POST", "/login", cookie: anonymous, form: [("csrf", csrf), ("token", token)])
        XCTAssertEqual(answer.status, 303, answer.text)
        let cookie = try XCTUnwrap(UIFixture.cookie(answer))
        let home = try send("GET", "/namespaces", cookie: cookie)
        return (cookie, try XCTUnwrap(UIFixture.csrf(home.text)))
    }

    static func cookie(_ response: HTTPResponse) -> String? {
        response.headers["set-cookie"].flatMap { $0.split(separator: ";").first.map(String.init) }
    }

    static func csrf(_ html: String) -> String? {
        guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    // MARK: - Contract-shaped list and get

    static func contractSessions(_ request: Request, gate: AccessGate, sessions: [String: [JSON]]) -> Response? {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v1", parts[2] == "namespaces", parts[4] == "sessions" else { return nil }
        let namespace = parts[3]
        if request.method == "POST", parts.count == 7, let action = SessionAction(rawValue: parts[6]), [.stop, .approve, .reject].contains(action) {
            if case .failure(let failure) = gate.admit(authorization: request.headers["authorization"], action, namespace: namespace, session: parts[5]) {
                return json(failure.status, failure.body(traceID: "t"))
            }
            return (sessions[namespace] ?? []).first { $0["id"]?.stringValue == parts[5] }.map { json(202, summary($0)) }
        }
        guard request.method == "GET" else { return nil }
        let action: SessionAction = parts.count == 5 ? .list : parts.count == 6 ? .get : parts[6] == "logs" ? .logs : .artifacts
        if case .failure(let failure) = gate.admit(authorization: request.headers["authorization"], action, namespace: namespace) {
            return json(failure.status, failure.body(traceID: "t"))
        }
        let all = sessions[namespace] ?? []
        switch parts.count {
        case 5:
            let filtered = all.filter { request.query["status"] == nil || $0["phase"]?.stringValue == request.query["status"] }
                .filter { request.query["source"] == nil || $0["source"]?.stringValue == request.query["source"] }
            let offset = Int(request.query["offset"] ?? "") ?? 0, limit = Int(request.query["limit"] ?? "") ?? 20
            let page = Array(filtered.dropFirst(offset).prefix(limit))
            return json(200, ["sessions": .array(page.map(summary)), "total": .int(filtered.count), "hasMore": .bool(offset + page.count < filtered.count)])
        case 6:
            guard let found = all.first(where: { $0["id"]?.stringValue == parts[5] }) else {
                return json(404, ["error": "not_found", "message": .string("sessions.ambient.ai \"\(parts[5])\" not found"), "details": [:], "traceId": "t"])
            }
            return json(200, found)
        default:
            if parts.count == 7, parts[6] == "logs" {
                return Response(status: 200, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data("cloning <repo>\nrunning: echo \"<b>hi</b>\"\ndone\n".utf8))
            }
            if parts.count == 8, parts[6] == "artifacts" {
                let text = parts[7].hasSuffix(".md") ? "# Summary\n\n- fixed **one** bug <img src=x onerror=alert(1)>\n" : "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new <script>\n"
                return Response(status: 200, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data(text.utf8))
            }
            return nil
        }
    }

    /// A SessionDetail's SessionSummary fields.
    static func summary(_ detail: JSON) -> JSON {
        var object = detail.objectValue ?? [:]
        for key in ["spec", "conditions", "history", "artifacts", "workload", "approval"] { object[key] = nil }
        return .object(object)
    }

    static func json(_ status: Int, _ body: JSON) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
    }

    /// A SessionDetail as the contract gives it.
    static func detail(id: String, namespace: String, phase: String, title: String, source: String = "github", createdBy: String = "octocat",
                       approvalRequired: Bool = false, minutesAgo: Double = 5) -> JSON {
        let created = Date().addingTimeInterval(-minutesAgo * 60)
        var object: JSONObject = [
            "id": .string(id), "namespace": .string(namespace), "phase": .string(phase), "source": .string(source), "event": "issues.labeled",
            "description": .string(title), "framework": "claude-code", "model": "claude-sonnet-4-5", "repository": "acme/payments",
            "url": "https://github.com/acme/payments/issues/7", "createdBy": .string(createdBy), "createdAt": .string(ISO8601DateFormatter().string(from: created)),
            "approvalRequired": .bool(approvalRequired),
            "spec": ["trigger": ["source": .string(source), "event": "issues.labeled",
                                 "payload": ["title": .string(title), "body": "Steps: <iframe src=//evil>", "url": "https://github.com/acme/payments/issues/7",
                                             "repository": "acme/payments"]],
                     "framework": ["type": "claude-code"], "policy": ["toolConstraints": ["allowed": ["git", "shell"]]]],
            "conditions": [["type": "Ready", "status": "True", "reason": "JobCreated", "message": "the runner Job <b>exists</b>"]],
            "history": [["timestamp": .string(ISO8601DateFormatter().string(from: created)), "event": "created", "actor": .string(createdBy)]],
            "artifacts": [["name": "summary.md", "type": "output", "size": 120, "contentType": "text/markdown", "createdAt": .string(ISO8601DateFormatter().string(from: created)),
                           "downloadUrl": .string("/api/v1/namespaces/\(namespace)/sessions/\(id)/artifacts/summary.md")],
                          ["name": "changes.diff", "type": "output", "size": 40, "contentType": "text/x-diff", "createdAt": .string(ISO8601DateFormatter().string(from: created)),
                           "downloadUrl": .string("/api/v1/namespaces/\(namespace)/sessions/\(id)/artifacts/changes.diff")]],
        ]
        if phase != "Pending" { object["startedAt"] = .string(ISO8601DateFormatter().string(from: created.addingTimeInterval(10))) }
        if ["Completed", "Failed", "Stopped"].contains(phase) {
            object["completedAt"] = .string(ISO8601DateFormatter().string(from: created.addingTimeInterval(70)))
            object["cost"] = "2.50"
        }
        return .object(object)
    }
}
