import Access
import Apply
import Artifacts
import Audit
import Foundation
import HTTPClient
import HTTPServer
import LocalCluster
import Model
import Sessions
import SessionsAPI
import Support
import TestSupport
import XCTest

/// A runner cluster with one tenant (`acme`, namespace `acme`, the `script` runner, viewers, editors and an admin),
/// and the Sessions API with its streaming endpoints and the runner's artifact upload served over HTTP on
/// 127.0.0.1; the session controller on request.
final class StreamHarness: @unchecked Sendable {
    static let namespace = "acme"
    let cluster: RunnerCluster
    let store: LocalArtifactStore
    let audit: AuditLog
    let feeds: SessionFeeds
    private(set) var server: HTTPServer!

    init(options: SessionStreams.Options, decisionTTL: TimeInterval = 10, linger: TimeInterval = 30) throws {
        cluster = try RunnerCluster(tenant: "acme", namespace: Self.namespace, yaml: """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: acme
        namespaces:
          - name: acme
        members:
          - user: ada@example.com
            role: admin
          - group: acme-editors
            role: editor
          - group: acme-viewers
            role: viewer
        policy:
          models:
            allowed: [claude-sonnet-4-5]
          budget:
            monthly: "100.00"
          tools:
            allowed: [git, shell]
          runner:
            type: script
            version: "0.1.0"

        """)
        let client = cluster.client
        store = LocalArtifactStore(root: cluster.directory + "/artifacts")
        audit = try AuditLog(path: cluster.directory + "/audit.db")
        feeds = SessionFeeds(client: client, linger: linger)
        let tokens = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer]))
        let authenticator = Authenticator(issuers: [], tokenReviewer: tokens)
        let gate = AccessGate(authenticator: authenticator,
                              reviewer: AccessReviewer(client: client, configuration: AuthorizationCacheConfiguration(allowedTTL: decisionTTL, deniedTTL: decisionTTL)))
        var api = SessionsAPI(gate: gate, permissions: NamespacePermissions(client: client), audit: audit, namespaces: { [:] })
        api.cluster = client
        api.artifacts = store
        api.streams = SessionStreams(feeds: feeds, options: options)
        // The runner's upload, as `serve` mounts it: its projected ServiceAccount token, from the Pod running the session.
        api.runnerTokens = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry"]))
        let mounted = api
        server = try HTTPServer(HTTPServer.Configuration()) { request in mounted.handle(request) ?? Response(status: 404) }
    }

    deinit {
        cluster.stopController()
        feeds.stop()
        server?.stop()
    }

    var client: KubeClient { cluster.client }
    var baseURL: String { "http://127.0.0.1:\(server.port)" }

    func token(_ user: String, groups: [String] = []) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    func startController() throws { try cluster.startController(apiURL: baseURL) }

    @discardableResult
    func createSession(_ name: String, command: String = "true") throws -> JSONObject { try cluster.createSession(name, command: command) }

    func session(_ name: String) throws -> SessionObject? {
        try client.get(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: Self.namespace, name: name))
            .map { try SessionObject(object: $0) }
    }

    /// Writes a status as the controller would (the events tests need no controller).
    func setStatus(_ name: String, _ status: SessionStatus) throws {
        _ = try client.patchStatus(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: Self.namespace, name: name),
                                   status: status.json.objectValue ?? [:])
    }

    func get(_ path: String, token: String?, headers: [(name: String, value: String)] = []) throws -> HTTPResponse {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        return try HTTPClient().send(HTTPRequest(method: "GET", url: baseURL + path, headers: all))
    }

    func open(_ path: String, token: String?, headers: [(name: String, value: String)] = []) -> StreamReader {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        return StreamReader(HTTPRequest(method: "GET", url: baseURL + path, headers: all, timeout: 600))
    }
}

/// A streamed answer read on a thread of its own: what has arrived so far, the status, and whether it ended.
final class StreamReader: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()
    private var stopped = false
    private var done = false
    private var code = 0
    private var failure: String?

    init(_ request: HTTPRequest) {
        let thread = Thread { [self] in
            do {
                let answer = try HTTPClient().stream(request, isCancelled: { [self] in lock.withLock { stopped } }) { status, chunk in
                    self.lock.withLock {
                        self.code = status
                        self.bytes.append(contentsOf: chunk)
                        return !self.stopped
                    }
                }
                lock.withLock { if code == 0 { code = answer.status } }
            } catch {
                lock.withLock { failure = "\(error)" }
            }
            lock.withLock { done = true }
        }
        thread.start()
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
    var status: Int { lock.withLock { code } }
    var ended: Bool { lock.withLock { done } }
    var error: String? { lock.withLock { failure } }

    /// The SSE events received so far, in order (comments left out).
    var events: [(id: String, name: String, data: JSON)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id = "", name = "", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard !name.isEmpty, let json = try? JSON(parsing: data) else { return nil }
            return (id, name, json)
        }
    }

    func stop() { lock.withLock { stopped = true } }
}

/// Checks bodies against a schema of specs/contracts/sessions.yaml's components (jsonschema, as the contract's
/// other checks do); returns what python printed and its exit code.
enum ContractSchemas {
    static func validate(_ bodies: [JSON], against schema: String) throws -> (code: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-events-\(UUID().uuidString).json")
        try JSON.array(bodies).compactText.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import json, sys, yaml, jsonschema
        spec = yaml.safe_load(open(sys.argv[1]))
        schema = dict(spec['components']['schemas'][sys.argv[3]])
        schema['components'] = spec['components']
        failures = 0
        for body in json.load(open(sys.argv[2])):
            try:
                jsonschema.validate(body, schema, cls=jsonschema.Draft4Validator)
            except jsonschema.ValidationError as error:
                failures += 1
                print(error.message)
        print('checked', len(json.load(open(sys.argv[2]))), 'failures', failures)
        sys.exit(1 if failures else 0)
        """
        return try Tool.run("python3", ["-c", script, PackagePaths.root.appendingPathComponent("specs/contracts/sessions.yaml").path, file.path, schema])
    }
}
