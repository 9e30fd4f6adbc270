import Foundation
import HTTPClient
import Model
import Support
import Webhooks
import XCTest

/// Every 4xx the server gives, routing conflicts, each admission refusal and the budget ledger.
final class WebhookRefusalTests: XCTestCase {
    /// Checks the contract's error body and returns its code.
    private func errorCode(_ response: HTTPResponse, _ status: Int, file: StaticString = #filePath, line: UInt = #line) -> String? {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        let body = response.json
        XCTAssertNotNil(body["message"]?.stringValue, file: file, line: line)
        XCTAssertNotNil(body["details"]?.objectValue, file: file, line: line)
        XCTAssertEqual(body["traceId"]?.stringValue, response.headers["x-trace-id"], file: file, line: line)
        return body["error"]?.stringValue
    }

    func testEachBadRequestGetsItsStatusAndCode() throws {
        let fixture = try WebhookFixture(bodyLimits: [.github: 64 * 1024, .jira: 1024, .slack: 1024, .generic: 1024])
        let body = try WebhookFixture.sample("issues.labeled.json")
        // 401: wrong, missing, malformed signature.
        XCTAssertEqual(errorCode(try fixture.github("issues", body: body, signature: "sha256=" + String(repeating: "0", count: 64)), 401), "invalid_signature")
        let unsigned = try fixture.send("POST", "/api/v1/webhooks/github", body: body, headers: [("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "x")])
        XCTAssertEqual(errorCode(unsigned, 401), "invalid_signature")
        XCTAssertEqual(errorCode(try fixture.github("issues", body: body, signature: "sha1=abc"), 401), "invalid_signature")
        // A body signed correctly but changed afterwards.
        var tampered = body
        tampered[10] ^= 1
        XCTAssertEqual(errorCode(try fixture.github("issues", body: tampered, signature: SenderVerification.githubSignature(body: body, secret: TestSecrets.github)), 401),
                       "invalid_signature")
        // 400: signed but not JSON; missing delivery header.
        let notJSON = Array("action=labeled".utf8)
        XCTAssertEqual(errorCode(try fixture.github("issues", body: notJSON), 400), "invalid_payload")
        let noDelivery = try fixture.send("POST", "/api/v1/webhooks/github", body: body, headers: [
            ("X-GitHub-Event", "issues"), ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: TestSecrets.github))])
        XCTAssertEqual(errorCode(noDelivery, 400), "invalid_payload")
        // 413: over the per-source limit.
        let large = Array(repeating: UInt8(ascii: " "), count: 2048)
        XCTAssertEqual(errorCode(try fixture.send("POST", "/api/v1/webhooks/generic", body: large, headers: [("X-API-Key", TestSecrets.helloGenericKey)]), 413),
                       "payload_too_large")
        // 404: unknown source or path; 405: wrong method.
        let unknown = try fixture.send("POST", "/api/v1/webhooks/gitlab", body: Array("{}".utf8))
        XCTAssertEqual(errorCode(unknown, 404), "not_found")
        XCTAssertEqual(errorCode(try fixture.send("POST", "/api/v1/webhooks/github/other", body: []), 404), "not_found")
        XCTAssertEqual(errorCode(try fixture.send("GET", "/nowhere"), 404), "not_found")
        let get = try fixture.send("GET", "/api/v1/webhooks/github")
        XCTAssertEqual(errorCode(get, 405), "method_not_allowed")
        XCTAssertEqual(get.headers["allow"], "POST")
        XCTAssertEqual(errorCode(try fixture.send("POST", "/healthz", body: []), 405), "method_not_allowed")
        // 400 missing_api_key / 401 invalid_api_key.
        XCTAssertEqual(errorCode(try fixture.generic(key: nil, body: ["description": "fix it"]), 400), "missing_api_key")
        XCTAssertEqual(errorCode(try fixture.generic(key: "short-key", body: ["description": "fix it"]), 401), "invalid_api_key")
        XCTAssertEqual(errorCode(try fixture.generic(key: String(repeating: "k", count: 40), body: ["description": "fix it"]), 401), "invalid_api_key")
        // A GitHub key used on the generic endpoint.
        XCTAssertEqual(errorCode(try fixture.generic(key: TestSecrets.helloGitHubKey, body: ["description": "fix it"]), 401), "invalid_api_key")
        XCTAssertEqual(errorCode(try fixture.generic(key: TestSecrets.helloGenericKey, body: ["prompt": ""]), 400), "invalid_payload")
        XCTAssertEqual(errorCode(try fixture.generic(key: TestSecrets.helloGenericKey, body: ["description": "x", "tools": "git"]), 400), "invalid_payload")
        // Nothing was journaled by any of these.
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 0)
    }

    func testOversizedBodiesBeyondTheServerLimitAre413() throws {
        let fixture = try WebhookFixture(bodyLimits: [.github: 4096, .jira: 4096, .slack: 4096, .generic: 4096])
        let huge = Array(repeating: UInt8(ascii: "x"), count: 100_000)
        let response = try fixture.send("POST", "/api/v1/webhooks/github", body: huge, headers: [("Content-Type", "application/json")])
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.json["error"], "payload_too_large")
    }

    func testAKeyAndARouteOfDifferentTenantsAreRefusedAndTheKeyPicksTheNamespace() throws {
        let fixture = try WebhookFixture()
        let body = try WebhookFixture.sample("issues.labeled.json")
        let conflict = try fixture.github("issues", body: body, key: TestSecrets.octoGitHubKey)
        XCTAssertEqual(errorCode(conflict, 403), "routing_conflict")
        XCTAssertEqual(conflict.json["details"]?["keyTenant"], "octo")
        XCTAssertEqual(conflict.json["details"]?["routeTenant"], "hello")
        // Same tenant: the key's namespace wins over the route's.
        let agreed = try fixture.github("issues", body: body, key: TestSecrets.helloGitHubKey)
        XCTAssertEqual(agreed.status, 202, agreed.text)
        XCTAssertEqual(agreed.json["namespace"], "hello-staging")
        // The payload cannot choose a namespace: a "namespace" field in it changes nothing.
        let sneaky = try editedSample("issues.labeled.json") { $0["namespace"] = "octo" }
        XCTAssertEqual(try fixture.github("issues", body: sneaky).json["namespace"], "hello-prod")
        // A repository nobody routes, without a key: nothing to start.
        let elsewhere = try editedSample("issues.labeled.json") { set(&$0, ["repository", "full_name"], "someone/else") }
        XCTAssertEqual(try fixture.github("issues", body: elsewhere).json["status"], "ignored")
    }

    func testABlockedOrUnlistedModelAndAnUnlistedToolAreRefused() throws {
        let fixture = try WebhookFixture()
        let blocked = try editedSample("issue_comment.created.json") { set(&$0, ["comment", "body"], "/agent model=claude-haiku-4-5 go") }
        let refused = try fixture.github("issue_comment", body: blocked)
        XCTAssertEqual(errorCode(refused, 403), "policy_violation")
        XCTAssertEqual(refused.json["details"]?["rule"], "models")
        XCTAssertEqual(refused.json["message"]?.stringValue?.contains("is blocked"), true)
        let unknown = try fixture.generic(key: TestSecrets.helloGenericKey, body: ["description": "x", "model": "gpt-9"])
        XCTAssertEqual(unknown.json["details"]?["rule"], "models")
        let tools = try fixture.generic(key: TestSecrets.helloGenericKey, body: ["description": "x", "tools": ["git", "web-fetch"]])
        XCTAssertEqual(errorCode(tools, 403), "policy_violation")
        XCTAssertEqual(tools.json["details"]?["rule"], "tools")
        XCTAssertEqual(tools.json["details"]?["tools"], ["web-fetch"])
        let fine = try fixture.generic(key: TestSecrets.helloGenericKey, body: ["description": "x", "tools": ["git"]])
        XCTAssertEqual(fine.status, 202, fine.text)
    }

    func testConcurrencyCountsLiveSessionsUntilTheyFinish() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        var names: [String] = []
        for index in 0..<2 {
            let response = try fixture.generic(key: TestSecrets.tightKey, body: ["description": .string("job \(index)")])
            XCTAssertEqual(response.status, 202, response.text)
            names.append(response.json["sessionId"]?.stringValue ?? "")
        }
        let third = try fixture.generic(key: TestSecrets.tightKey, body: ["description": "job 2"])
        XCTAssertEqual(errorCode(third, 403), "policy_violation")
        XCTAssertEqual(third.json["details"]?["rule"], "maxConcurrentSessions")
        XCTAssertEqual(third.json["details"]?["live"], .int(2))
        // One finishes; once the server has listed the cluster again, there is room.
        fixture.eventually("created") { writer.count == 2 && fixture.server.service.journal.depth == 0 }
        writer.finish("tight", names[0])
        fixture.server.service.refreshLiveSessions(using: writer)
        XCTAssertEqual(try fixture.generic(key: TestSecrets.tightKey, body: ["description": "job 3"]).status, 202)
    }

    func testASessionTheControllerFinishesFreesItsSlotAtOnce() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        var names: [String] = []
        for index in 0..<2 {
            let response = try fixture.generic(key: TestSecrets.tightKey, body: ["description": .string("slot \(index)")])
            XCTAssertEqual(response.status, 202, response.text)
            names.append(response.json["sessionId"]?.stringValue ?? "")
        }
        fixture.eventually("created") { writer.count == 2 && fixture.server.service.journal.depth == 0 }
        XCTAssertEqual(try fixture.generic(key: TestSecrets.tightKey, body: ["description": "slot 2"]).json["details"]?["rule"], "maxConcurrentSessions")
        // The session controller wrote a final phase: the slot is free without waiting for the next listing.
        fixture.server.sessionFinished(namespace: "tight", name: names[1])
        let after = try fixture.generic(key: TestSecrets.tightKey, body: ["description": "slot 3"])
        XCTAssertEqual(after.status, 202, after.text)
        XCTAssertEqual(errorCode(try fixture.generic(key: TestSecrets.tightKey, body: ["description": "slot 4"]), 403), "policy_violation")
    }

    func testTheRateLimitAnswers429WithRetryAfter() throws {
        let fixture = try WebhookFixture()
        for index in 0..<2 {
            XCTAssertEqual(try fixture.generic(key: TestSecrets.rateyKey, body: ["description": .string("r\(index)")]).status, 202)
        }
        let limited = try fixture.generic(key: TestSecrets.rateyKey, body: ["description": "r2"])
        XCTAssertEqual(errorCode(limited, 429), "rate_limit_exceeded")
        let retryAfter = Int(limited.headers["retry-after"] ?? "")
        XCTAssertNotNil(retryAfter)
        XCTAssertTrue((1...60).contains(retryAfter ?? 0))
        // Another namespace is not affected.
        XCTAssertEqual(try fixture.generic(key: TestSecrets.tightKey, body: ["description": "t"]).status, 202)
    }

    func testTheBudgetLedgerReservesAcrossSessionsAndRestartsAndSaysWhatIsLeft() throws {
        let fixture = try WebhookFixture()
        // claude-sonnet-4-5 costs 2.50 a session; the tenant's budget is 5.00 a month.
        XCTAssertEqual(try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "one"]).status, 202)
        XCTAssertEqual(fixture.server.service.journal.ledger(tenant: "budget").reserved, 2_500_000)
        try fixture.restart()
        XCTAssertEqual(fixture.server.service.journal.ledger(tenant: "budget").reserved, 2_500_000)
        XCTAssertEqual(try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "two"]).status, 202)
        let over = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "three"])
        XCTAssertEqual(errorCode(over, 403), "policy_violation")
        XCTAssertEqual(over.json["details"]?["rule"], "budget")
        XCTAssertEqual(over.json["details"]?["remaining"], "0.00")
        XCTAssertEqual(over.json["message"]?.stringValue?.contains("0.00 USD left of its 5.00 USD budget"), true, over.text)
        XCTAssertEqual(fixture.server.service.journal.ledger(tenant: "budget").reserved, 5_000_000)
    }

    func testSettlingASessionMovesItsReservationToSpent() throws {
        let fixture = try WebhookFixture()
        let response = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "one"], idempotencyKey: "budget-1")
        let name = response.json["sessionId"]?.stringValue ?? ""
        fixture.server.service.journal.settle(name, actualCost: Amount("1.00")!)
        fixture.eventually("settled") { fixture.server.service.journal.ledger(tenant: "budget").spent == 1_000_000 }
        XCTAssertEqual(fixture.server.service.journal.ledger(tenant: "budget").reserved, 0)
        // 4.00 left: one more 2.50 session fits, a second does not.
        XCTAssertEqual(try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "two"]).status, 202)
        let over = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "three"])
        XCTAssertEqual(over.json["details"]?["remaining"], "1.50")
    }

    func testTheValidateEndpointIsADryRun() throws {
        let fixture = try WebhookFixture()
        let valid = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "x"], validate: true)
        XCTAssertEqual(valid.status, 200, valid.text)
        XCTAssertEqual(valid.json["valid"], .bool(true))
        XCTAssertEqual(valid.json["namespace"], "budget")
        XCTAssertEqual(valid.json["framework"]?["type"], "claude-code")
        XCTAssertEqual(valid.json["estimatedCost"], "2.50")
        XCTAssertNotNil(valid.json["warnings"]?.arrayValue)
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 0)
        let invalid = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "x", "model": "claude-opus-4-1", "tools": ["shell"]], validate: true)
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.json["valid"], .bool(false))
        let rules = invalid.json["violations"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []
        // claude-opus-4-1 is not allowed, shell is not allowed, and at 12.00 it would also break the 5.00 budget.
        XCTAssertEqual(rules, ["models", "tools", "budget"])
        let github = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), validate: true)
        XCTAssertEqual(github.status, 200)
        XCTAssertEqual(github.json["namespace"], "hello-prod")
        XCTAssertEqual(try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), signature: "sha256=00", validate: true).status, 401)
    }

    func testNoSecretKeyOrPayloadReachesTheLogs() throws {
        let fixture = try WebhookFixture()
        let body = try editedSample("issues.labeled.json") { set(&$0, ["issue", "body"], "PAYLOAD-MARKER-7731") }
        try fixture.github("issues", body: body, key: TestSecrets.helloGitHubKey)
        try fixture.github("issues", body: body, key: TestSecrets.octoGitHubKey)
        try fixture.github("issues", body: body, signature: "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array("wrong".utf8), message: body)))
        try fixture.generic(key: TestSecrets.budgetKey + "x", body: ["description": "PAYLOAD-MARKER-7731"])
        try fixture.slack(body: WebhookDeliveryTests.mention.compactBytes, secret: "nope")
        let logs = fixture.logs.all
        XCTAssertFalse(logs.isEmpty)
        let refusals = fixture.logs.levels(of: " refused: ")
        XCTAssertFalse(refusals.isEmpty, "\(logs)")
        XCTAssertEqual(Set(refusals), [.warning], "a refused delivery is a warning")
        for line in logs {
            for secret in TestSecrets.all { XCTAssertFalse(line.contains(secret), "a secret or key leaked into: \(line)") }
            XCTAssertFalse(line.contains("PAYLOAD-MARKER"), "payload leaked into: \(line)")
            XCTAssertFalse(line.contains(TestSecrets.hash(TestSecrets.helloGitHubKey)))
        }
        let secrets = WebhookSecrets(github: TestSecrets.github, jira: TestSecrets.jira, slack: TestSecrets.slack)
        XCTAssertEqual(secrets.description, "WebhookSecrets(github=***, jira=***, slack=***)")
    }

    func testLogLevelsFollowTheCreatorsOutcome() throws {
        let writer = RecordingWriter()
        writer.down = true
        let fixture = try WebhookFixture(writer: writer)
        let response = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "one"], idempotencyKey: "retried-1")
        XCTAssertEqual(response.status, 202)
        fixture.eventually("the retry is logged") { !fixture.logs.levels(of: "create will be retried").isEmpty }
        XCTAssertEqual(Set(fixture.logs.levels(of: "create will be retried")), [.warning])
        writer.down = false
        fixture.eventually("the Session is created") { !fixture.logs.levels(of: " created").isEmpty }
        XCTAssertEqual(fixture.logs.levels(of: " created"), [.info])
        XCTAssertEqual(fixture.logs.levels(of: "failed for good"), [])
    }

    func testReadinessWaitsForTheTenantTableAndATableSwapTakesEffect() throws {
        let fixture = try WebhookFixture(loadTable: false)
        XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200)
        XCTAssertEqual(try fixture.send("GET", "/readyz").status, 503)
        let early = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"))
        XCTAssertEqual(early.status, 503)
        XCTAssertEqual(early.headers["retry-after"], "5")
        fixture.server.replaceTenantTable(try TenantTable.load(repo: fixture.repo.path, revision: "r1"))
        XCTAssertEqual(try fixture.send("GET", "/readyz").status, 200)
        XCTAssertEqual(try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json")).json["namespace"], "hello-prod")
        // Revision r2 routes the repository to hello-staging.
        let file = fixture.repo.url.appendingPathComponent("tenants/hello.yaml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "namespace: hello-prod", with: "namespace: hello-staging")
        try fixture.repo.write("tenants/hello.yaml", text)
        fixture.server.replaceTenantTable(try TenantTable.load(repo: fixture.repo.path, revision: "r2"))
        XCTAssertEqual(try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json")).json["namespace"], "hello-staging")
    }

    func testMetricsCountRequestsByOutcomeInPrometheusText() throws {
        let fixture = try WebhookFixture()
        try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"))
        try fixture.github("push", body: try WebhookFixture.sample("push.json"))
        try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), signature: "sha256=00")
        fixture.eventually("created and marked done") { fixture.server.service.metrics.sessionsCreated == 1 && fixture.server.service.journal.depth == 0 }
        let metrics = try fixture.send("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        let text = metrics.text
        XCTAssertTrue(text.contains("tenantry_webhook_requests_total{source=\"github\",outcome=\"accepted\"} 1"), text)
        XCTAssertTrue(text.contains("tenantry_webhook_requests_total{source=\"github\",outcome=\"ignored\"} 1"), text)
        XCTAssertTrue(text.contains("tenantry_webhook_requests_total{source=\"github\",outcome=\"invalid_signature\"} 1"), text)
        XCTAssertTrue(text.contains("tenantry_webhook_request_duration_seconds_count 3"), text)
        XCTAssertTrue(text.contains("tenantry_webhook_sessions_created_total 1"), text)
        XCTAssertTrue(text.contains("tenantry_webhook_journal_depth 0"), text)
    }
}

final class WebhookCreationFailureTests: XCTestCase {
    func testASessionTheClusterRefusesForGoodMarksTheEntryFailedAndReleasesItsReservation() throws {
        let fixture = try WebhookFixture(writer: RecordingWriter(refusesForGood: true))
        let response = try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "one"], idempotencyKey: "refused-1")
        XCTAssertEqual(response.status, 202)
        let name = response.json["sessionId"]?.stringValue ?? ""
        fixture.eventually("the entry failed") { fixture.server.service.journal.entryState(session: name) == .failed }
        fixture.eventually("the reservation is released") { fixture.server.service.journal.ledger(tenant: "budget").reserved == 0 }
        XCTAssertEqual(fixture.server.service.journal.depth, 0)
        XCTAssertEqual(fixture.logs.levels(of: "create failed for good"), [.error])
        XCTAssertEqual(Set(fixture.logs.levels(of: " accepted Session/")), [.info])
        // Not replayed at the next start.
        try fixture.restart()
        XCTAssertEqual(fixture.server.replayed, 0)
    }
}
