import Access
import Apply
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
import XCTest

/// whoami, user/namespaces and the audit page over HTTP, with the example tenants reconciled into a local
/// cluster and the local cluster's user tokens; every JSON answer checked against specs/contracts/sessions.yaml.
final class SessionsAPITests: XCTestCase {
    var cluster: TestAPIServer!
    var server: HTTPServer!
    var audit: AuditLog!
    var auditPath: String!
    let http = HTTPClient()
    var exchanges: [(template: String, method: String, status: Int, body: JSON)] = []

    override func setUpWithError() throws {
        cluster = try TestAPIServer()
        let client = try cluster.client()
        let result = try Reconciler(client: client).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
        let tenants = try Examples.rendered().tenants.compactMap(\.tenant)
        var table: [String: SessionsAPI.NamespaceInfo] = [:]
        for tenant in tenants { for namespace in tenant.namespaces { table[namespace.name] = SessionsAPI.NamespaceInfo(tenant: tenant) } }
        let frozenTable = table
        auditPath = cluster.directory + "/audit.db"
        audit = try AuditLog(path: auditPath)
        let reviewer = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer]))
        var api = SessionsAPI(gate: AccessGate(authenticator: Authenticator(issuers: [], tokenReviewer: reviewer), reviewer: AccessReviewer(client: client)),
                              permissions: NamespacePermissions(client: client, maxAge: 0.001), audit: audit, namespaces: { frozenTable })
        // `spent` in /user/namespaces is read from the tenant's ledger in the cluster.
        api.cluster = client
        let served = api
        server = try HTTPServer(HTTPServer.Configuration()) { request in served.handle(request) ?? Response(status: 404) }
    }

    override func tearDown() {
        server.stop()
        cluster = nil
    }

    private func token(_ user: String, _ groups: [String]) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    @discardableResult
    private func get(_ path: String, template: String, token: String?, method: String = "GET", file: StaticString = #filePath, line: UInt = #line) throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("X-Request-Id", "req-\(exchanges.count)")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try http.send(HTTPRequest(method: method, url: "http://127.0.0.1:\(server.port)\(path)", headers: headers))
        let body = try JSON(parsing: Data(response.body))
        if let traceID = body["traceId"] { XCTAssertEqual(traceID, .string("req-\(exchanges.count)"), file: file, line: line) }
        XCTAssertEqual(response.headers["x-trace-id"], "req-\(exchanges.count)", file: file, line: line)
        exchanges.append((template, method.lowercased(), response.status, body))
        return response
    }

    func testUserNamespacesShowTheTenantsSpendingInEachOfItsNamespaces() throws {
        // payments spends from one ledger, on its first namespace (payments-prod): both namespaces show it.
        let client = try cluster.client()
        let ledger = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: "payments-prod", name: NamespacePolicy.objectName)
        _ = try client.mergePatchStatus(ledger, patch: ["status": ["budget": ["month": .string(Timestamp.month(Date())), "reserved": "100.00", "spent": "1234.50"]]])
        let listed = try JSON(parsing: Data(try get("/api/v1/user/namespaces", template: "/api/v1/user/namespaces",
                                                    token: try token("sam@acme.example", ["payments-engineers"])).body))["namespaces"]?.arrayValue ?? []
        XCTAssertEqual(listed.map { $0["namespace"] }, ["payments-prod", "payments-staging"])
        for item in listed {
            let budget = item["policy"]?["budget"]
            let monthly = try XCTUnwrap(budget?["monthly"]?.stringValue.flatMap(Amount.init))
            XCTAssertEqual(budget?["spent"], "1234.50", "\(item)")
            XCTAssertEqual(budget?["remaining"]?.stringValue.flatMap(Amount.init), Amount(micros: max(0, monthly.micros - 1_334_500_000)), "\(item)")
        }
    }

    func testWhoamiUserNamespacesAndTheAuditPageAnswerAsTheContractSays() throws {
        let sam = try token("sam@acme.example", ["payments-engineers"])
        let lee = try token("lee@acme.example", ["payments-leads"])

        let anonymous = try get("/api/v1/whoami", template: "/api/v1/whoami", token: nil)
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.headers["www-authenticate"], "Bearer realm=\"tenantry\"")
        XCTAssertEqual(try get("/api/v1/whoami", template: "/api/v1/whoami", token: "garbage").status, 401)
        let me = try get("/api/v1/whoami", template: "/api/v1/whoami", token: sam)
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual(try JSON(parsing: Data(me.body))["user"], "sam@acme.example")
        XCTAssertEqual(try JSON(parsing: Data(me.body))["authenticatedBy"], "kubernetes")

        let mine = try get("/api/v1/user/namespaces", template: "/api/v1/user/namespaces", token: sam)
        XCTAssertEqual(mine.status, 200)
        let listed = try JSON(parsing: Data(mine.body))["namespaces"]?.arrayValue ?? []
        XCTAssertEqual(listed.map { $0["namespace"] }, ["payments-prod", "payments-staging"])
        XCTAssertEqual(listed.map { $0["permission"] }, ["editor", "editor"])
        XCTAssertEqual(listed.first?["tenant"], "payments")
        XCTAssertEqual(listed.first?["policy"]?["budget"]?["monthly"], listed.first?["policy"]?["budget"]?["remaining"], "nothing spent yet")
        XCTAssertEqual(try JSON(parsing: Data(try get("/api/v1/user/namespaces", template: "/api/v1/user/namespaces",
                                                       token: try token("nobody@acme.example", [])).body))["namespaces"], [])

        // The rendered tenantry:admin reads the namespace's audit trail; an editor is refused, and the refusal is recorded.
        let refused = try get("/api/v1/namespaces/payments-prod/audit", template: "/api/v1/namespaces/{namespace}/audit", token: sam)
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(try get("/api/v1/namespaces/docs/audit", template: "/api/v1/namespaces/{namespace}/audit", token: sam).status, 403)
        XCTAssertEqual(try get("/api/v1/namespaces/Not_A_Name/audit", template: "/api/v1/namespaces/{namespace}/audit", token: sam).status, 400)
        let page = try get("/api/v1/namespaces/payments-prod/audit?limit=1", template: "/api/v1/namespaces/{namespace}/audit", token: lee)
        XCTAssertEqual(page.status, 200)
        let body = try JSON(parsing: Data(page.body))
        XCTAssertEqual(body["hasMore"], true)
        XCTAssertEqual(body["entries"]?.arrayValue?.first?["outcome"], "succeeded", "the view itself is recorded first")
        let next = try get("/api/v1/namespaces/payments-prod/audit?continue=\(body["continue"]?.stringValue ?? "")",
                           template: "/api/v1/namespaces/{namespace}/audit", token: lee)
        let older = try JSON(parsing: Data(next.body))["entries"]?.arrayValue ?? []
        XCTAssertEqual(older.map { $0["outcome"] }, ["denied"])
        XCTAssertEqual(older.first?["actor"], "sam@acme.example")
        XCTAssertEqual(try get("/api/v1/namespaces/payments-prod/audit?limit=0", template: "", token: lee).status, 400)
        XCTAssertEqual(try get("/api/v1/whoami", template: "", token: sam, method: "POST").status, 405)

        XCTAssertTrue(try AuditLog(path: auditPath).verify().intact)
        XCTAssertEqual(try audit.entries(namespace: "docs").map(\.record.outcome), ["denied"])
        try checkAgainstContract()
    }

    /// Each body against the schema the contract declares for its operation and status (jsonschema).
    private func checkAgainstContract() throws {
        let samples = exchanges.filter { !$0.template.isEmpty }.map { exchange -> JSON in
            ["path": .string(exchange.template), "method": .string(exchange.method), "status": .string(String(exchange.status)), "body": exchange.body]
        }
        XCTAssertEqual(Set(samples.compactMap { $0["status"]?.stringValue }), ["200", "400", "401", "403"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-contract-\(UUID().uuidString).json")
        try JSON.array(samples).compactText.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import json, sys, yaml, jsonschema
        spec = yaml.safe_load(open(sys.argv[1]))
        failures = 0
        for sample in json.load(open(sys.argv[2])):
            response = spec['paths'][sample['path']][sample['method']]['responses'][sample['status']]
            if '$ref' in response:
                response = spec['components']['responses'][response['$ref'].split('/')[-1]]
            schema = dict(response['content']['application/json']['schema'])
            schema['components'] = spec['components']
            try:
                jsonschema.validate(sample['body'], schema, cls=jsonschema.Draft4Validator)
            except jsonschema.ValidationError as error:
                failures += 1
                print(sample['method'], sample['path'], sample['status'], error.message)
        print('checked', len(json.load(open(sys.argv[2]))), 'failures', failures)
        sys.exit(1 if failures else 0)
        """
        let (code, text) = try Tool.run("python3", ["-c", script, PackagePaths.root.appendingPathComponent("specs/contracts/sessions.yaml").path, file.path])
        XCTAssertEqual(code, 0, text)
        XCTAssertTrue(text.contains("failures 0"), text)
    }
}
