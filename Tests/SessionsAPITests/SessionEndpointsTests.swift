import Access
import Apply
import ApplyTestSupport
import Audit
@testable import Commands
import Foundation
import HTTPClient
import LocalCluster
import Model
import Reconciler
import Sessions
import SessionsAPI
import Support
import TestSupport
import Webhooks
import XCTest

/// The session endpoints as `serve` mounts them: a WebhookServer with the Sessions API composed by ServeCommand
/// (the webhooks' admission injected for creates, webhook decisions into the audit trail), against a local
/// cluster holding the example tenants' rendered RBAC, with the cluster's user tokens and ServiceAccount tokens.
final class SessionEndpointsTests: XCTestCase {
    var cluster: TestAPIServer!
    var server: WebhookServer!
    var audit: AuditLog!
    var directory: URL!
    let http = HTTPClient()
    static let githubSecret = "sessions-api-test-secret"

    override func setUpWithError() throws {
        cluster = try TestAPIServer()
        let client = try cluster.client()
        let result = try Reconciler(client: client).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let flags = try ServeCommand.parse([Examples.tenants, "--journal", directory.appendingPathComponent("journal.db").path,
                                            "--config", directory.appendingPathComponent("absent.yaml").path, "--port", "0"])
        audit = try ServeCommand.openAudit(flags, stdout: { _ in })
        let config = try cluster.config()
        var options = WebhookServer.Options(journalPath: flags.journal, secrets: WebhookSecrets(github: Self.githubSecret), writer: KubeSessionWriter(config: config))
        options.port = 0
        options.refreshInterval = 0
        options.admissionDecided = ServeCommand.auditAdmissions(audit)
        options.mountedBodyLimit = 1 << 20
        server = try WebhookServer(options: options, table: try TenantTable.load(repo: Examples.tenants))
        let api = try ServeCommand.sessionsAPI(flags, cluster: config, embedded: true, audit: audit, server: server, environment: [:])
        server.mount { api.handle($0) }
    }

    override func tearDown() {
        server?.stop()
        cluster = nil
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: Helpers

    private func token(_ user: String, _ groups: [String]) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    /// `kubectl create token` for a ServiceAccount with the API's audience, optionally bound to a Pod.
    private func serviceAccountToken(_ name: String, namespace: String, pod: String? = nil) throws -> String {
        var arguments = ["--kubeconfig", cluster.kubeconfigPath, "create", "token", name, "-n", namespace, "--audience", "tenantry"]
        if let pod { arguments += ["--bound-object-kind", "Pod", "--bound-object-name", pod] }
        let result = Kubectl.run(arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    private func call(_ method: String, _ path: String, _ token: String?, body: JSON? = nil, raw: [UInt8]? = nil,
                      headers: [(name: String, value: String)] = []) throws -> (status: Int, body: JSON, headers: [String: String]) {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        if body != nil { all.append(("Content-Type", "application/json")) }
        let response = try http.send(HTTPRequest(method: method, url: "http://127.0.0.1:\(server.port)\(path)", headers: all,
                                                 body: raw ?? body.map { Array($0.compactBytes) }))
        return (response.status, (try? JSON(parsing: Data(response.body))) ?? .string(response.text), response.headers)
    }

    private func session(_ namespace: String, _ name: String) throws -> JSONObject? {
        try cluster.client().get(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, name: name))
    }

    private let manual: JSON = ["framework": ["type": "claude-code"], "trigger": ["source": "manual", "description": "fix the flaky settlement test"],
                                "repository": "acme/payments-web", "metadata": ["labels": ["team": "settlements"]]]

    private func records(_ namespace: String) throws -> [AuditRecord] { try audit.entries(namespace: namespace, limit: 500).map(\.record) }

    // MARK: Tests

    func testViewersEditorsApproversAndOtherTenantsAsTheRenderedRolesSay() throws {
        let viewer = try token("oncall@acme.example", ["payments-engineers-oncall"])
        let sam = try token("sam@acme.example", ["payments-engineers"])
        let lee = try token("lee@acme.example", ["payments-leads"])
        let staging = "/api/v1/namespaces/payments-staging/sessions"

        // A viewer may list but not create; the refusal is recorded.
        XCTAssertEqual(try call("GET", "/api/v1/namespaces/payments-prod/sessions", viewer).status, 200)
        let refused = try call("POST", "/api/v1/namespaces/payments-prod/sessions", viewer, body: manual)
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.body["error"], "forbidden")
        XCTAssertEqual(try records("payments-prod").map { "\($0.action) \($0.outcome)" }, ["create denied", "list succeeded"])

        // An editor creates, through the webhooks' admission: the policy's runner, model, tools and approval.
        let created = try call("POST", staging, sam, body: manual)
        XCTAssertEqual(created.status, 201, "\(created.body)")
        let id = try XCTUnwrap(created.body["id"]?.stringValue)
        XCTAssertEqual(created.headers["location"], "\(staging)/\(id)")
        XCTAssertEqual(created.body["phase"], "Pending")
        XCTAssertEqual(created.body["source"], "manual")
        XCTAssertEqual(created.body["model"], "claude-sonnet-4-5")
        XCTAssertEqual(created.body["createdBy"], "sam@acme.example")
        XCTAssertEqual(created.body["approvalRequired"], true)
        // Phase Pending with no conditions yet: the session controller (none runs here) alone writes status.
        XCTAssertEqual(created.body["conditions"], [])
        let stored = try XCTUnwrap(try session("payments-staging", id))
        XCTAssertEqual(stored["metadata"]?["labels"]?["team"], "settlements")
        XCTAssertEqual(stored["metadata"]?["labels"]?["tenantry.dev/tenant"], "payments")
        XCTAssertEqual(stored["spec"]?["framework"]?["version"], "1.5.2")

        // Each bad field is named; a model the policy blocks is a policy_violation with the rule.
        let bad = try call("POST", staging, sam, body: ["framework": ["type": ""], "trigger": ["source": "github"], "extra": 1])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.body["details"]?["fields"], ["extra", "framework.type", "trigger.source", "trigger.description"])
        var blocked = manual.objectValue ?? [:]
        blocked["framework"] = ["type": "claude-code", "config": ["model": "claude-haiku-4-5"]]
        let policy = try call("POST", staging, sam, body: .object(blocked))
        XCTAssertEqual(policy.status, 403)
        XCTAssertEqual(policy.body["error"], "policy_violation")
        XCTAssertEqual(policy.body["details"]?["rule"], "models")

        // Another tenant's namespace and one that does not exist answer the same 403.
        let docs = try call("GET", "/api/v1/namespaces/docs/sessions", sam)
        let nowhere = try call("GET", "/api/v1/namespaces/no-such-namespace/sessions", sam)
        XCTAssertEqual(docs.status, 403)
        XCTAssertEqual(nowhere.status, 403)
        XCTAssertEqual(docs.body["message"]?.stringValue?.replacingOccurrences(of: "\"docs\"", with: "NS"),
                       nowhere.body["message"]?.stringValue?.replacingOccurrences(of: "\"no-such-namespace\"", with: "NS"))
        XCTAssertEqual(try call("GET", "/api/v1/namespaces/docs/sessions/\(id)", sam).status, 403)

        // Approval: verb approve, which the plain editor lacks and the approver group has; decided once.
        XCTAssertEqual(try call("POST", "\(staging)/\(id)/approve", sam).status, 403)
        let approved = try call("POST", "\(staging)/\(id)/approve", lee, body: ["reason": "reviewed the plan"])
        XCTAssertEqual(approved.status, 202, "\(approved.body)")
        XCTAssertEqual(approved.body["id"], .string(id))
        let approval = try XCTUnwrap(try session("payments-staging", id))["spec"]?["approval"]
        XCTAssertEqual(approval?["decision"], "approved")
        XCTAssertEqual(approval?["by"], "lee@acme.example")
        XCTAssertNotNil(approval?["at"]?.stringValue.flatMap(Timestamp.parse))
        XCTAssertEqual(try call("POST", "\(staging)/\(id)/reject", lee).status, 409)
        let detail = try call("GET", "\(staging)/\(id)?includeHistory=true&includeArtifacts=true", sam)
        XCTAssertEqual(detail.status, 200)
        XCTAssertEqual(detail.body["approval"]?["by"], "lee@acme.example")
        XCTAssertEqual(detail.body["artifacts"], [])
        XCTAssertNotNil(detail.body["history"]?.arrayValue)
        XCTAssertEqual(try call("GET", "\(staging)/\(id)?includeHistory=maybe", sam).status, 400)
        XCTAssertEqual(try call("GET", "\(staging)/no-such-session", sam).status, 404)

        // Stop (verb update: the editor's) writes the intent; SessionIntent and Access ask the same verb.
        XCTAssertEqual(SessionIntent.requiredVerb(approval: false), SessionAction.stop.verb)
        XCTAssertEqual(try call("POST", "\(staging)/\(id)/stop", viewer).status, 403, "the viewer has no role in payments-staging at all")
        XCTAssertEqual(try call("POST", "\(staging)/\(id)/stop", sam).status, 202)
        XCTAssertEqual(try session("payments-staging", id)?["spec"]?["stop"], true)
        XCTAssertEqual(try session("payments-staging", id)?["spec"]?["stoppedBy"], "sam@acme.example")

        // Rerun: a new Session with the same spec and its parent named.
        let rerun = try call("POST", "\(staging)/\(id)/rerun", sam)
        XCTAssertEqual(rerun.status, 201, "\(rerun.body)")
        XCTAssertEqual(rerun.body["parent"], .string(id))
        XCTAssertNotEqual(rerun.body["id"], .string(id))
        XCTAssertEqual(rerun.body["spec"]?["trigger"]?["payload"], stored["spec"]?["trigger"]?["payload"])

        // The list: newest first (creation times are whole seconds; a tie goes by name, descending), paged by continue.
        let first = try call("GET", "\(staging)?limit=1", sam)
        XCTAssertEqual(first.body["total"], 2)
        XCTAssertEqual(first.body["hasMore"], true)
        let second = try call("GET", "\(staging)?limit=1&continue=\(first.body["continue"]?.stringValue ?? "")", sam)
        XCTAssertEqual(second.body["hasMore"], false)
        let pages = ((first.body["sessions"]?.arrayValue ?? []) + (second.body["sessions"]?.arrayValue ?? [])).map {
            ($0["createdAt"]?.stringValue ?? "", $0["id"]?.stringValue ?? "")
        }
        XCTAssertEqual(Set(pages.map(\.1)), [id, rerun.body["id"]?.stringValue ?? ""])
        XCTAssertTrue(pages[0] > pages[1], "newest first: \(pages)")
        XCTAssertEqual(try call("GET", "\(staging)?source=github", sam).body["total"], 0)
        XCTAssertEqual(try call("GET", "\(staging)?limit=101", sam).body["details"]?["fields"], ["limit"])

        // Every call about the namespace is in the trail, refusals with their rule; the chain verifies.
        let trail = try records("payments-staging").reversed().map { "\($0.actor) \($0.action) \($0.outcome)" }
        XCTAssertEqual(Array(trail), [
            "sam@acme.example create succeeded", "sam@acme.example create refused",
            "sam@acme.example approve denied", "lee@acme.example approve succeeded", "lee@acme.example reject failed",
            "sam@acme.example view succeeded",
            "oncall@acme.example stop denied", "sam@acme.example stop succeeded", "sam@acme.example rerun succeeded",
            "sam@acme.example list succeeded", "sam@acme.example list succeeded", "sam@acme.example list succeeded",
        ])
        XCTAssertEqual(try records("payments-staging").first { $0.outcome == "refused" }?.details["rule"], "models")
        XCTAssertEqual(try records("payments-staging").first { $0.action == "approve" && $0.outcome == "succeeded" }?.details["reason"], "reviewed the plan")
        XCTAssertEqual(try records("docs").map { "\($0.action) \($0.outcome)" }, ["view denied", "list denied"])
        XCTAssertTrue(try audit.verify().intact)
    }

    /// A signed GitHub `issues.labeled` delivery (the example's, issue `number` of acme/payments-web, label agent).
    private func delivery(_ number: Int) throws -> (status: Int, body: JSON, headers: [String: String]) {
        var payload = try XCTUnwrap(try JSON(parsing: Data(contentsOf: PackagePaths.root.appendingPathComponent("examples/webhooks/github/issues.labeled.json"))).objectValue)
        var repository = payload["repository"]?.objectValue ?? [:]
        repository["full_name"] = "acme/payments-web"
        payload["repository"] = .object(repository)
        payload["label"] = ["name": "agent"]
        var issue = payload["issue"]?.objectValue ?? [:]
        issue["number"] = .int(number)
        payload["issue"] = .object(issue)
        let body = Array(JSON.object(payload).compactBytes)
        return try call("POST", "/api/v1/webhooks/github", nil, raw: body, headers: [
            ("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "delivery-\(number)"), ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: Self.githubSecret))])
    }

    func testWebhookAdmissionsAndTheRateLimitAreAuditedAndShared() throws {
        // payments allows 5 sessions a minute: five deliveries are admitted, the sixth refused, each recorded first.
        for number in 1...5 { XCTAssertEqual(try delivery(number).status, 202) }
        let sixth = try delivery(6)
        XCTAssertEqual(sixth.status, 429, "\(sixth.body)")
        let decisions = try records("payments-staging").reversed()
        XCTAssertEqual(decisions.map { "\($0.actor) \($0.action) \($0.outcome)" },
                       Array(repeating: "webhook:github admit admitted", count: 5) + ["webhook:github refuse refused"])
        XCTAssertEqual(decisions.last?.details["rule"], "rate_limit_exceeded")
        XCTAssertEqual(decisions.first?.details["deliveryId"], "delivery-1")
        XCTAssertEqual(decisions.first?.session, WebhookService.sessionName(source: .github, deliveryID: "delivery-1"))

        // The API's creates share the window: the same admission refuses a manual session now, with Retry-After.
        let sam = try token("sam@acme.example", ["payments-engineers"])
        let limited = try call("POST", "/api/v1/namespaces/payments-staging/sessions", sam, body: manual)
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.body["error"], "rate_limit_exceeded")
        XCTAssertNotNil(limited.headers["retry-after"].flatMap(Int.init))
        XCTAssertEqual(try records("payments-staging").first?.outcome, "refused")
        XCTAssertTrue(try audit.verify().intact)
    }

    /// One SessionSummary: a webhook session, a manual one and its rerun show the same fields in the list, in the
    /// detail and in the live events (the created events and a later snapshot), each as the contract says.
    func testTheListTheDetailAndTheLiveEventsShowOneSummary() throws {
        let sam = try token("sam@acme.example", ["payments-engineers"])
        let lee = try token("lee@acme.example", ["payments-leads"])
        let base = "/api/v1/namespaces/payments-staging"
        let live = StreamReader(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)\(base)/events",
                                            headers: [("Authorization", "Bearer \(sam)")], timeout: 600))
        defer { live.stop() }
        eventually("the stream's snapshot") { live.events.first?.name == "snapshot" }

        XCTAssertEqual(try delivery(41).status, 202)
        let webhook = WebhookService.sessionName(source: .github, deliveryID: "delivery-41")
        let created = try call("POST", "\(base)/sessions", sam, body: manual)
        XCTAssertEqual(created.status, 201, "\(created.body)")
        let manualID = try XCTUnwrap(created.body["id"]?.stringValue)
        let rerun = try call("POST", "\(base)/sessions/\(manualID)/rerun", lee)
        XCTAssertEqual(rerun.status, 201, "\(rerun.body)")
        let rerunID = try XCTUnwrap(rerun.body["id"]?.stringValue)
        let ids = [webhook, manualID, rerunID]
        eventually("the three created events") {
            Set(live.events.filter { $0.name == "created" }.compactMap { $0.data["session"]?["id"]?.stringValue }) == Set(ids)
        }

        let list = try call("GET", "\(base)/sessions", sam)
        XCTAssertEqual(list.status, 200)
        let rows = Dictionary((list.body["sessions"]?.arrayValue ?? []).compactMap { row in row["id"]?.stringValue.map { ($0, row) } }) { a, _ in a }
        let after = StreamReader(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)\(base)/events",
                                             headers: [("Authorization", "Bearer \(sam)")], timeout: 600))
        defer { after.stop() }
        eventually("a second listener's snapshot") { after.events.first?.name == "snapshot" }
        let snapshot = Dictionary((after.events.first?.data["sessions"]?.arrayValue ?? []).compactMap { row in row["id"]?.stringValue.map { ($0, row) } }) { a, _ in a }
        let detailOnly: Set<String> = ["spec", "conditions", "history", "artifacts", "workload", "approval"]
        var summaries: [JSON] = []
        for id in ids {
            let detail = try call("GET", "\(base)/sessions/\(id)", sam)
            XCTAssertEqual(detail.status, 200, "\(detail.body)")
            let fromDetail = JSON.object(JSONObject((detail.body.objectValue ?? [:]).pairs.filter { !detailOnly.contains($0.0) }))
            let event = try XCTUnwrap(live.events.first { $0.name == "created" && $0.data["session"]?["id"]?.stringValue == id }?.data["session"])
            XCTAssertEqual(rows[id], fromDetail, "\(id): the list row is the detail's summary")
            XCTAssertEqual(snapshot[id], fromDetail, "\(id): the live snapshot is the detail's summary")
            XCTAssertEqual(event, fromDetail, "\(id): the created event is the detail's summary (nothing wrote a status since)")
            summaries.append(fromDetail)
        }

        // What each shows: the trigger's author for the webhook one, the API's caller for the manual one and its rerun.
        let github = try XCTUnwrap(rows[webhook])
        XCTAssertEqual(github["source"], "github")
        XCTAssertEqual(github["event"], "issues.labeled")
        XCTAssertEqual(github["createdBy"], "Codertocat", "the issue's author")
        XCTAssertEqual(github["description"], "Spelling error in the README file")
        XCTAssertEqual(github["repository"], "acme/payments-web")
        XCTAssertEqual(github["url"], "https://github.com/Codertocat/Hello-World/issues/1")
        XCTAssertNil(github["parent"])
        let byHand = try XCTUnwrap(rows[manualID])
        XCTAssertEqual(byHand["source"], "manual")
        XCTAssertEqual(byHand["createdBy"], "sam@acme.example")
        XCTAssertEqual(byHand["description"], "fix the flaky settlement test")
        XCTAssertEqual(byHand["repository"], "acme/payments-web")
        XCTAssertEqual(byHand["model"], "claude-sonnet-4-5")
        XCTAssertEqual(byHand["framework"], "claude-code")
        XCTAssertEqual(byHand["approvalRequired"], true)
        XCTAssertNil(byHand["url"])
        let again = try XCTUnwrap(rows[rerunID])
        XCTAssertEqual(again["createdBy"], "lee@acme.example", "who asked for the rerun")
        XCTAssertEqual(again["parent"], .string(manualID))
        XCTAssertEqual(again["description"], "fix the flaky settlement test")
        for summary in summaries { XCTAssertEqual(summary["phase"], "Pending"); XCTAssertNotNil(summary["createdAt"]) }
        let (code, output) = try ContractSchemas.validate(summaries, against: "SessionSummary")
        XCTAssertEqual(code, 0, output)
    }

    func testServiceAccountTokensAndOnlyTheSessionsOwnRunnerPodUploads() throws {
        // A ServiceAccount token, authenticated by TokenReview for the API's audience and authorized by its Role.
        let runner = try serviceAccountToken("session-runner", namespace: "payments-staging")
        let me = try call("GET", "/api/v1/whoami", runner)
        XCTAssertEqual(me.body["user"], "system:serviceaccount:payments-staging:session-runner")
        XCTAssertEqual(me.body["authenticatedBy"], "kubernetes")
        XCTAssertEqual(try call("GET", "/api/v1/namespaces/payments-staging/sessions", runner).status, 200)
        XCTAssertEqual(try call("POST", "/api/v1/namespaces/payments-staging/sessions", runner, body: manual).status, 403)

        let sam = try token("sam@acme.example", ["payments-engineers"])
        let staging = "/api/v1/namespaces/payments-staging/sessions"
        let mine = try XCTUnwrap(try call("POST", staging, sam, body: manual).body["id"]?.stringValue)
        let other = try XCTUnwrap(try call("POST", staging, sam, body: manual).body["id"]?.stringValue)
        // The Pod running `mine` (bound to another node: no kubelet starts it), as the controller would record it.
        let client = try cluster.client()
        _ = try client.apply(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "runner-pod", "namespace": "payments-staging"],
                              "spec": ["nodeName": "elsewhere", "serviceAccountName": "session-runner",
                                       "containers": [["name": "runner", "image": "tenantry", "command": ["true"],
                                                       "resources": ["requests": ["cpu": "100m", "memory": "64Mi"], "limits": ["cpu": "100m", "memory": "64Mi"]]]]]])
        _ = try client.patchStatus(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: "payments-staging", name: mine),
                                   status: ["workload": ["jobName": "runner-job", "podName": "runner-pod"]])
        let podToken = try serviceAccountToken("session-runner", namespace: "payments-staging", pod: "runner-pod")
        let log = Array("line one\nline two\n".utf8)
        let put = try call("PUT", "\(staging)/\(mine)/artifacts/runner.log", podToken, raw: log, headers: [("Content-Type", "text/plain")])
        XCTAssertEqual(put.status, 201, "\(put.body)")
        XCTAssertEqual(put.body["size"], 18)
        XCTAssertEqual(try call("PUT", "\(staging)/\(other)/artifacts/runner.log", podToken, raw: log).status, 403, "another session's upload")
        XCTAssertEqual(try call("PUT", "\(staging)/\(mine)/artifacts/forged.log", runner, raw: log).status, 403, "a token bound to no Pod")
        XCTAssertEqual(try call("PUT", "\(staging)/\(mine)/artifacts/forged.log", sam, raw: log).status, 401, "a person's token lacks the runner audience")

        // People who may read the session list and download it, with Range.
        let listed = try call("GET", "\(staging)/\(mine)/artifacts", sam)
        XCTAssertEqual(listed.body["artifacts"]?.arrayValue?.map { $0["name"] }, ["runner.log"])
        XCTAssertEqual(listed.body["artifacts"]?.arrayValue?.first?["downloadUrl"], .string("\(staging)/\(mine)/artifacts/runner.log"))
        let part = try http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)\(staging)/\(mine)/artifacts/runner.log",
                                             headers: [("Authorization", "Bearer \(sam)"), ("Range", "bytes=9-16")]))
        XCTAssertEqual(part.status, 206)
        XCTAssertEqual(part.text, "line two")
        XCTAssertEqual(try call("GET", "\(staging)/\(mine)/artifacts/runner.log", try token("tom@acme.example", [])).status, 403)
        let uploads = try records("payments-staging").filter { $0.resource == "sessions/artifacts" }.map { "\($0.actor) \($0.action) \($0.outcome)" }
        XCTAssertEqual(Array(uploads.reversed()), [
            "system:serviceaccount:payments-staging:session-runner create succeeded",
            "system:serviceaccount:payments-staging:session-runner create denied",
            "system:serviceaccount:payments-staging:session-runner create denied",
            "sam@acme.example view succeeded", "sam@acme.example view succeeded", "tom@acme.example view denied",
        ])
    }
}
