import Foundation
import HTTPClient
import Model
import Plan
import Support
import Synchronization
import TestKit
import TestSupport
import Webhooks
import XCTest

/// Secrets and API keys the tests sign and authenticate with. Each must never appear in a log line.
enum TestSecrets {
    static let github = "gh-secret-It's a Secret to Everybody"
    static let jira = "jira-secret-0f3c2b1a"
    static let slack = "slack-signing-secret-8d7e6f"
    /// hello-staging's GitHub key (tenant hello).
    static let helloGitHubKey = "hello-staging-github-key-0123456789abcdef"
    /// octo's GitHub key (tenant octo).
    static let octoGitHubKey = "octo-github-key-fedcba9876543210fedcba98"
    /// hello-prod's generic key.
    static let helloGenericKey = "hello-prod-generic-key-00112233445566778899"
    static let rateyKey = "ratey-generic-key-aabbccddeeff00112233445566"
    static let tightKey = "tight-generic-key-aabbccddeeff00112233445566"
    static let budgetKey = "budget-generic-key-aabbccddeeff001122334455"
    static var all: [String] { [github, jira, slack, helloGitHubKey, octoGitHubKey, helloGenericKey, rateyKey, tightKey, budgetKey] }

    static func hash(_ key: String) -> String { "sha256:" + Crypto.sha256Hex(Array(key.utf8)) }
}

/// The tenant repo the tests serve: examples/tenants' platform and six small tenants.
enum TestRepo {
    static func make() throws -> TempRepo {
        let repo = try TempRepo()
        try repo.write("tenants/hello.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: hello
            namespaces:
              - name: hello-prod
                apiKeys:
                  generic: \(TestSecrets.hash(TestSecrets.helloGenericKey))
              - name: hello-staging
                apiKeys:
                  github: \(TestSecrets.hash(TestSecrets.helloGitHubKey))
            policy:
              models:
                allowed: [claude-sonnet-4-5, claude-opus-4-1]
                blocked: [claude-haiku-4-5]
              budget: {monthly: "1000.00"}
              tools: {allowed: [git, shell], blocked: [web-fetch]}
              maxConcurrentSessions: 50
              sessionsPerMinute: 60
            routing:
              github:
                - repository: Codertocat/Hello-World
                  namespace: hello-prod
            triggers:
              github:
                issueLabels: [bug]
                comment: {command: /agent, authorAssociations: [OWNER, MEMBER]}
                pullRequests: [opened, synchronize]
                allowBots: ["renovate[bot]"]

            """)
        try repo.write("tenants/octo.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: octo
            namespaces:
              - name: octo
                apiKeys:
                  github: \(TestSecrets.hash(TestSecrets.octoGitHubKey))
            policy:
              models: {allowed: [claude-sonnet-4-5]}
              budget: {monthly: "100.00"}
            routing:
              github:
                - repository: Octocoders/Hello-World
            triggers:
              intentWindow: 2m
              github: {issueLabels: [agent]}

            """)
        try repo.write("tenants/support.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: support
            namespaces:
              - name: support-agents
            policy:
              models: {allowed: [claude-sonnet-4-5, claude-haiku-4-5], default: claude-haiku-4-5}
              budget: {monthly: "1500.00"}
              tools: {allowed: [git, jira-api, slack-api]}
              approval: {required: true, approvers: [support-leads]}
            routing:
              jira:
                - project: SUP
              slack:
                - channel: C04SUPPORT1
            triggers:
              jira: {labels: [agent], transitions: ["Ready for Agent"]}
              slack: {mention: true, slashCommand: /agent}

            """)
        for (name, key, policy) in [("ratey", TestSecrets.rateyKey, "sessionsPerMinute: 2"),
                                    ("tight", TestSecrets.tightKey, "maxConcurrentSessions: 2"),
                                    ("budget", TestSecrets.budgetKey, "maxConcurrentSessions: 10")] {
            try repo.write("tenants/\(name).yaml", """
                apiVersion: tenantry.dev/v1alpha1
                kind: Tenant
                name: \(name)
                namespaces:
                  - name: \(name)
                    apiKeys:
                      generic: \(TestSecrets.hash(key))
                policy:
                  models: {allowed: [claude-sonnet-4-5]}
                  budget: {monthly: "\(name == "budget" ? "5.00" : "100.00")"}
                  tools: {allowed: [git]}
                  \(policy)

                """)
        }
        return repo
    }
}

/// The one fake SessionWriter: keeps Sessions in memory; it can be "down" (every call fails, retryable) or
/// refuse every Session for good (as a 422 Invalid would).
final class RecordingWriter: SessionWriter, @unchecked Sendable {
    /// Every create is refused for good; set at init.
    let refusesForGood: Bool
    private let lock = NSLock()
    private var objects: [String: JSONObject] = [:]
    private var phases: [String: Session.Phase] = [:]
    private var creates = 0
    private var isDown = false

    init(refusesForGood: Bool = false) { self.refusesForGood = refusesForGood }

    func create(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome {
        lock.lock()
        defer { lock.unlock() }
        do {
            if refusesForGood { throw SessionWriteError(retryable: false, status: 422, message: "Session is invalid (test)") }
            if isDown { throw SessionWriteError(retryable: true, status: nil, message: "connection refused (test)") }
            creates += 1
            let key = "\(object["metadata"]?["namespace"]?.stringValue ?? "")/\(object["metadata"]?["name"]?.stringValue ?? "")"
            if objects[key] != nil { return .alreadyExists }
            objects[key] = object
            return .created
        }
    }

    func liveSessions(namespace: String) throws(SessionWriteError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        if isDown { throw SessionWriteError(retryable: true, status: nil, message: "connection refused (test)") }
        return objects.keys.filter { $0.hasPrefix(namespace + "/") && !(phases[$0]?.isFinal ?? false) }
            .map { String($0.dropFirst(namespace.count + 1)) }
    }

    var down: Bool {
        get { lock.withLock { isDown } }
        set { lock.withLock { isDown = newValue } }
    }

    func object(_ namespace: String, _ name: String) -> JSONObject? { lock.withLock { objects["\(namespace)/\(name)"] } }
    var count: Int { lock.withLock { objects.count } }
    var createCalls: Int { lock.withLock { creates } }
    func finish(_ namespace: String, _ name: String) { lock.withLock { phases["\(namespace)/\(name)"] = .completed } }
}

/// Every log line the server wrote.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(level: Log.Level, line: String)] = []
    func append(_ level: Log.Level, _ line: String) { lock.withLock { lines.append((level, line)) } }
    var all: [String] { lock.withLock { lines.map(\.line) } }
    /// The levels of the lines that contain `text`, in order.
    func levels(of text: String) -> [Log.Level] { lock.withLock { lines.filter { $0.line.contains(text) }.map(\.level) } }
}

/// An in-process webhook server on a free loopback port with a fresh journal.
final class WebhookFixture: @unchecked Sendable {
    let repo: TempRepo
    let directory: URL
    let writer: any SessionWriter
    let logs = LogCapture()
    private(set) var server: WebhookServer!
    let client = HTTPClient()
    var bodyLimits: [WebhookSource: Int]?
    let reviewer: TenantRepoReviewer?
    /// The HTTP server's header and body deadlines (short in tests of slow clients; applied by `restart`).
    var requestTimeoutSeconds: Double = 10
    let ackAfter: AckAfter
    let clusterAckTimeout: TimeInterval

    init(writer: any SessionWriter = RecordingWriter(), bodyLimits: [WebhookSource: Int]? = nil, loadTable: Bool = true,
         reviewer: TenantRepoReviewer? = nil, ackAfter: AckAfter = .journal, clusterAckTimeout: TimeInterval = 10) throws {
        self.reviewer = reviewer
        self.ackAfter = ackAfter
        self.clusterAckTimeout = clusterAckTimeout
        repo = try TestRepo.make()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.writer = writer
        self.bodyLimits = bodyLimits
        try start(loadTable: loadTable)
    }

    deinit {
        server?.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var journalPath: String { directory.appendingPathComponent("journal.db").path }

    func start(loadTable: Bool = true) throws {
        var options = WebhookServer.Options(journalPath: journalPath,
                                            secrets: WebhookSecrets(github: TestSecrets.github, jira: TestSecrets.jira, slack: TestSecrets.slack),
                                            writer: writer)
        options.port = 0
        options.refreshInterval = 0
        options.bodyLimits = bodyLimits
        options.maxBackoff = 0.2
        let logs = self.logs
        options.log = { logs.append($0, $1) }
        options.tenantRepoReviewer = reviewer
        options.headerTimeoutSeconds = requestTimeoutSeconds
        options.bodyTimeoutSeconds = requestTimeoutSeconds
        options.ackAfter = ackAfter
        options.clusterAckTimeout = clusterAckTimeout
        server = try WebhookServer(options: options, table: loadTable ? try TenantTable.load(repo: repo.path, revision: "test") : nil)
    }

    func restart() throws {
        server.stop()
        try start()
    }

    var base: String { "http://127.0.0.1:\(server.port)" }

    @discardableResult
    func send(_ method: String, _ path: String, body: [UInt8] = [], headers: [(name: String, value: String)] = []) throws -> HTTPResponse {
        try client.send(HTTPRequest(method: method, url: base + path, headers: headers, body: method == "GET" ? nil : body))
    }

    static func sample(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: PackagePaths.root.appendingPathComponent("examples/webhooks/github/\(file)")))
    }

    /// A GitHub delivery signed with the test secret (or `signature` as given).
    @discardableResult
    func github(_ event: String, body: [UInt8], delivery: String = UUID().uuidString, key: String? = nil, signature: String? = nil,
                validate: Bool = false) throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-GitHub-Event", event),
                                                        ("X-GitHub-Delivery", delivery),
                                                        ("X-Hub-Signature-256", signature ?? SenderVerification.githubSignature(body: body, secret: TestSecrets.github))]
        if let key { headers.append(("X-API-Key", key)) }
        return try send("POST", "/api/v1/webhooks/github" + (validate ? "/validate" : ""), body: body, headers: headers)
    }

    @discardableResult
    func jira(body: JSON, delivery: String = UUID().uuidString, secret: String = TestSecrets.jira) throws -> HTTPResponse {
        let bytes = body.compactBytes
        return try send("POST", "/api/v1/webhooks/jira", body: bytes, headers: [
            ("Content-Type", "application/json"), ("X-Atlassian-Webhook-Identifier", delivery),
            ("X-Hub-Signature", SenderVerification.githubSignature(body: bytes, secret: secret)),
        ])
    }

    @discardableResult
    func slack(body: [UInt8], contentType: String = "application/json", timestamp: Int64 = Int64(Date().timeIntervalSince1970),
               retry: Int? = nil, secret: String = TestSecrets.slack) throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType), ("X-Slack-Request-Timestamp", String(timestamp)),
                                                        ("X-Slack-Signature", SenderVerification.slackSignature(body: body, timestamp: timestamp, secret: secret))]
        if let retry { headers.append(("X-Slack-Retry-Num", String(retry))) }
        return try send("POST", "/api/v1/webhooks/slack", body: body, headers: headers)
    }

    @discardableResult
    func generic(key: String?, body: JSON, idempotencyKey: String? = nil, validate: Bool = false) throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let key { headers.append(("X-API-Key", key)) }
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        return try send("POST", "/api/v1/webhooks/generic" + (validate ? "/validate" : ""), body: body.compactBytes, headers: headers)
    }

    /// Waits (without a time limit that could fail a slow machine: only a generous safety net) until `condition` holds.
    func eventually(_ what: String, file: StaticString = #filePath, line: UInt = #line, _ condition: () -> Bool) {
        TestKit.eventually(what, file: file, line: line, condition)
    }
}

extension HTTPResponse {
    var json: JSON { (try? JSON(parsing: Data(body))) ?? .null }
}

/// A GitHub sample with one field changed (e.g. a comment body).
func editedSample(_ file: String, _ edit: (inout JSONObject) -> Void) throws -> [UInt8] {
    var object = try JSON(parsing: Data(try WebhookFixture.sample(file))).objectValue!
    edit(&object)
    return JSON.object(object).compactBytes
}

/// `issues.labeled.json` for issue `number` of the same repository: another intent than issue #1.
func labeledIssue(_ number: Int) throws -> [UInt8] {
    try editedSample("issues.labeled.json") { set(&$0, ["issue", "number"], .int(number)) }
}

/// Sets `object[path...] = value`, creating nothing: the path must exist.
func set(_ object: inout JSONObject, _ path: [String], _ value: JSON) {
    guard let first = path.first else { return }
    if path.count == 1 { object[first] = value; return }
    var child = object[first]?.objectValue ?? [:]
    set(&child, Array(path.dropFirst()), value)
    object[first] = .object(child)
}
