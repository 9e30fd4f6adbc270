import Foundation
import HTTPClient
import Model
import Support

/// The cluster connection from a kubeconfig: server URL, bearer token, TLS trust. Only what creating
/// Sessions needs (token auth; client certificates are passed through to libcurl).
public struct ClusterConnection: Sendable {
    public var server: String
    public var token: String?
    public var tls: TLSOptions

    public init(server: String, token: String?, tls: TLSOptions) {
        self.server = server
        self.token = token
        self.tls = tls
    }

    /// Reads the current context of a kubeconfig file (YAML).
    public static func load(kubeconfig path: String) throws -> ClusterConnection {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read the kubeconfig \(path); pass --kubeconfig PATH or start the local cluster (tenantry cluster start)")
        }
        let root = try YAML.parseDocument(Array(data))
        guard let config = root?.json else { throw UsageError("the kubeconfig \(path) is empty") }
        let current = config["current-context"]?.stringValue
        func named(_ list: String, _ name: String?) -> JSON? {
            let items = config[list]?.arrayValue ?? []
            return items.first { $0["name"]?.stringValue == name } ?? (name == nil ? items.first : nil)
        }
        let context = named("contexts", current)?["context"]
        guard let cluster = named("clusters", context?["cluster"]?.stringValue ?? nil)?["cluster"],
              let server = cluster["server"]?.stringValue else {
            throw UsageError("the kubeconfig \(path) has no cluster with a server for context \(current ?? "(none)"); check current-context")
        }
        let user = named("users", context?["user"]?.stringValue ?? nil)?["user"]
        var token = user?["token"]?.stringValue
        if token == nil, let file = user?["tokenFile"]?.stringValue, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func file(_ value: String?) -> String? {
            value.map { $0.hasPrefix("/") ? $0 : base.appendingPathComponent($0).path }
        }
        func inline(_ value: String?) -> [UInt8]? { value.flatMap { Data(base64Encoded: $0) }.map { Array($0) } }
        let tls = TLSOptions(caFile: file(cluster["certificate-authority"]?.stringValue),
                             caData: inline(cluster["certificate-authority-data"]?.stringValue),
                             clientCertificateFile: file(user?["client-certificate"]?.stringValue),
                             clientCertificateData: inline(user?["client-certificate-data"]?.stringValue),
                             clientKeyFile: file(user?["client-key"]?.stringValue),
                             clientKeyData: inline(user?["client-key-data"]?.stringValue),
                             insecureSkipVerify: cluster["insecure-skip-tls-verify"] == .bool(true))
        return ClusterConnection(server: server.hasSuffix("/") ? String(server.dropLast()) : server, token: token, tls: tls)
    }
}

/// Creates Sessions with the Kubernetes API over the shared libcurl client: POST to
/// `/apis/ambient.ai/v1alpha1/namespaces/{ns}/sessions`, 409 AlreadyExists counted as done.
/// (The Apply module's KubeClient was not available when this was written; see specs/webhooks.md.)
public struct KubeSessionWriter: SessionWriter {
    public let connection: ClusterConnection
    private let client: HTTPClient
    public var timeout: TimeInterval = 10

    public init(connection: ClusterConnection) {
        self.connection = connection
        client = HTTPClient(tls: connection.tls, connectTimeout: 3)
    }

    private func path(_ namespace: String) -> String {
        "\(connection.server)/apis/ambient.ai/v1alpha1/namespaces/\(namespace)/sessions"
    }

    private func send(_ method: String, _ url: String, body: JSON?, contentType: String = "application/json") throws(SessionWriteError) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = connection.token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", contentType)) }
        do {
            return try client.send(HTTPRequest(method: method, url: url, headers: headers, body: body.map { $0.compactBytes }, timeout: timeout))
        } catch {
            throw SessionWriteError(retryable: true, status: nil, message: "\(method) \(url) failed: \(error.message); is the cluster reachable?")
        }
    }

    private static func failure(_ response: HTTPResponse, _ what: String) -> SessionWriteError {
        let message = (try? JSON(parsing: Data(response.body)))?["message"]?.stringValue ?? response.text.prefix(200).description
        // 404: the namespace (or the CRD) may arrive with the next reconcile; 409 conflicts and 5xx pass.
        let retryable = response.status == 404 || response.status == 408 || response.status == 409 || response.status == 429
            || response.status >= 500 || response.status == 401 || response.status == 403
        return SessionWriteError(retryable: retryable, status: response.status, message: "\(what): \(message)")
    }

    public func create(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome {
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        let response = try send("POST", path(namespace), body: .object(object))
        switch response.status {
        case 200, 201, 202: return .created
        case 409:
            let reason = (try? JSON(parsing: Data(response.body)))?["reason"]?.stringValue
            if reason == "AlreadyExists" || reason == nil { return .alreadyExists }
            throw Self.failure(response, "Session/\(namespace)/\(name) create failed")
        default: throw Self.failure(response, "Session/\(namespace)/\(name) create failed")
        }
    }

    public func markPendingApproval(namespace: String, name: String) throws(SessionWriteError) {
        let now = Timestamp.rfc3339(Date())
        let patch: JSON = ["status": ["phase": "Pending", "conditions": [[
            "type": "Approved", "status": "False", "reason": "PendingApproval",
            "message": "the namespace's policy requires approval before the session runs", "lastTransitionTime": .string(now),
        ]]]]
        let response = try send("PATCH", "\(path(namespace))/\(name)/status", body: patch, contentType: "application/merge-patch+json")
        guard (200..<300).contains(response.status) else { throw Self.failure(response, "Session/\(namespace)/\(name) status patch failed") }
    }

    public func liveSessions(namespace: String) throws(SessionWriteError) -> [String] {
        let response = try send("GET", path(namespace), body: nil)
        guard response.status == 200 else { throw Self.failure(response, "listing Sessions in \(namespace) failed") }
        let items = (try? JSON(parsing: Data(response.body)))?["items"]?.arrayValue ?? []
        return items.compactMap { item in
            let phase = item["status"]?["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:))
            if let phase, phase.isFinal { return nil }
            return item["metadata"]?["name"]?.stringValue
        }
    }
}

extension KubeSessionWriter {
    /// Creates a Namespace or CustomResourceDefinition (what a test or the benchmark needs before Sessions can
    /// be created in a fresh cluster; reconciling the rest is the Apply module's job). AlreadyExists is fine.
    public func createClusterObject(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome {
        let kind = object["kind"]?.stringValue ?? ""
        let url: String
        switch kind {
        case "Namespace": url = "\(connection.server)/api/v1/namespaces"
        case "CustomResourceDefinition": url = "\(connection.server)/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        default: throw SessionWriteError(retryable: false, status: nil, message: "createClusterObject handles Namespace and CustomResourceDefinition, not \(kind)")
        }
        let response = try send("POST", url, body: .object(object))
        switch response.status {
        case 200, 201, 202: return .created
        case 409: return .alreadyExists
        default: throw Self.failure(response, "\(kind)/\(object["metadata"]?["name"]?.stringValue ?? "") create failed")
        }
    }

    /// Waits until Sessions can be listed in `namespace` (the CRD is served and the namespace exists).
    public func waitUntilServed(namespace: String, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? liveSessions(namespace: namespace)) != nil { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Every Session in the namespace (any phase), by name.
    public func allSessions(namespace: String) throws(SessionWriteError) -> [JSONObject] {
        let response = try send("GET", path(namespace), body: nil)
        guard response.status == 200 else { throw Self.failure(response, "listing Sessions in \(namespace) failed") }
        return ((try? JSON(parsing: Data(response.body)))?["items"]?.arrayValue ?? []).compactMap(\.objectValue)
    }

    /// Sets a Session's `status.phase` (tests stand in for the controller that would).
    public func setPhase(namespace: String, name: String, phase: Session.Phase) throws(SessionWriteError) {
        let response = try send("PATCH", "\(path(namespace))/\(name)/status", body: ["status": ["phase": .string(phase.rawValue)]],
                                contentType: "application/merge-patch+json")
        guard (200..<300).contains(response.status) else { throw Self.failure(response, "Session/\(namespace)/\(name) status patch failed") }
    }
}
