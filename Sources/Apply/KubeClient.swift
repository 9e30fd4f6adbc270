import Foundation
import HTTPClient
import Model
import Support
import Synchronization

/// One kind as the server serves it, from discovery.
public struct ResourceInfo: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var basePath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace { return "\(basePath)/namespaces/\(namespace)/\(plural)" }
        return "\(basePath)/\(plural)"
    }
}

/// How requests that failed for a passing reason (429, 5xx, no connection) are retried.
public struct KubeRetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var attempts: Int
    public var initialDelay: Double
    public var maxDelay: Double
    /// The longest Retry-After honoured; a server asking for more is waited for this long.
    public var maxRetryAfter: Double

    public init(attempts: Int = 5, initialDelay: Double = 0.2, maxDelay: Double = 5, maxRetryAfter: Double = 10) {
        self.attempts = attempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    func delay(afterAttempt attempt: Int, retryAfter: String?) -> Double {
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(seconds, maxRetryAfter)
        }
        return Backoff(initial: initialDelay, maximum: maxDelay).delay(retry: attempt)
    }
}

/// Requests sent, as counted by the client (retries included).
public struct RequestCounts: Sendable, Hashable, CustomStringConvertible {
    /// GET requests (discovery, get, list pages).
    public var reads = 0
    /// Requests that change the cluster: apply, delete (dry runs excluded).
    public var writes = 0
    /// Server-side dry-run applies.
    public var dryRuns = 0
    /// Requests sent again after a 429, 5xx or lost connection.
    public var retries = 0

    public init() {}
    public var total: Int { reads + writes + dryRuns }
    public var description: String { "\(total) requests (\(reads) reads, \(writes) writes, \(dryRuns) dry runs, \(retries) retries)" }
}

/// A Kubernetes API client over the shared libcurl `HTTPClient`: discovery with a cache, get, list
/// with selectors and paging, server-side apply and delete. 429 and 5xx are retried with backoff,
/// honouring Retry-After; every error is a `KubeError` naming the object and the step.
public final class KubeClient: Sendable {
    public let config: ClusterConfig
    public let fieldManager: String
    public let retry: KubeRetryPolicy
    public let timeout: TimeInterval
    let http: HTTPClient
    private let discovery = Mutex<[String: [String: ResourceInfo]]>([:])
    let counts = Mutex(RequestCounts())

    public init(config: ClusterConfig, fieldManager: String = "tenantry", retry: KubeRetryPolicy = KubeRetryPolicy(), timeout: TimeInterval = 30) {
        self.config = config
        self.fieldManager = fieldManager
        self.retry = retry
        self.timeout = timeout
        http = HTTPClient(tls: config.tls, connectTimeout: min(10, timeout))
    }

    public var requestCounts: RequestCounts { counts.withLock { $0 } }
    public func resetRequestCounts() { counts.withLock { $0 = RequestCounts() } }

    // MARK: - Discovery

    /// The resource serving `kind` in `apiVersion`. A miss refetches that group version once, so a
    /// kind whose CRD was applied a moment ago is found.
    public func resource(apiVersion: String, kind: String) throws(KubeError) -> ResourceInfo {
        if let known = discovery.withLock({ $0[apiVersion]?[kind] }) { return known }
        let table = try fetchDiscovery(apiVersion)
        guard let found = table[kind] else {
            throw .unknownKind(apiVersion: apiVersion, kind: kind, server: config.server)
        }
        return found
    }

    /// Forgets what discovery said (after CRDs change).
    public func invalidateDiscovery() { discovery.withLock { $0.removeAll() } }

    private func fetchDiscovery(_ apiVersion: String) throws(KubeError) -> [String: ResourceInfo] {
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "")
        let path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let response = try send("GET", path, step: "discovery of \(apiVersion)", object: nil, allowNotFound: true)
        var table: [String: ResourceInfo] = [:]
        if response.status != 404 {
            let json: JSON
            do { json = try JSON(parsing: response.text) } catch {
                throw .malformed(step: "discovery of \(apiVersion)", message: error.description)
            }
            for item in json["resources"]?.arrayValue ?? [] {
                guard let name = item["name"]?.stringValue, !name.contains("/"), let kind = item["kind"]?.stringValue else { continue }
                table[kind] = ResourceInfo(group: group, version: version, kind: kind, plural: name, namespaced: item["namespaced"] == .bool(true))
            }
        }
        discovery.withLock { $0[apiVersion] = table }
        return table
    }

    // MARK: - Reads

    /// The live object, or nil when it does not exist.
    public func get(_ reference: ObjectReference) throws(KubeError) -> JSONObject? { try getDated(reference).object }

    /// As `get`, with the API server's time when it answered (`serverTime`).
    public func getDated(_ reference: ObjectReference) throws(KubeError) -> (object: JSONObject?, serverTime: Date?) {
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name)
        let response = try send("GET", path, step: "get", object: reference, allowNotFound: true)
        if response.status == 404 { return (nil, Self.serverTime(response)) }
        return (try decodeObject(response, step: "get", object: reference), Self.serverTime(response))
    }

    /// The response's `Date` header: the API server's clock in whole seconds, truncated (the true time is within the
    /// second that follows); nil when the server sent none. One clock for decisions that several processes share.
    static func serverTime(_ response: HTTPResponse) -> Date? { response.headers["date"].flatMap(Timestamp.httpDate) }

    /// Every object of one kind (in all namespaces when `namespace` is nil), page by page.
    public func list(apiVersion: String, kind: String, namespace: String? = nil, labelSelector: String? = nil, pageSize: Int = 2000) throws(KubeError) -> [JSONObject] {
        try listWithVersion(apiVersion: apiVersion, kind: kind, namespace: namespace, labelSelector: labelSelector, pageSize: pageSize).items
    }

    /// Every object of one kind and the list's resourceVersion (of its first page: a watch from there
    /// misses nothing).
    public func listWithVersion(apiVersion: String, kind: String, namespace: String? = nil, labelSelector: String? = nil,
                                fieldSelector: String? = nil, pageSize: Int = 2000) throws(KubeError) -> (items: [JSONObject], resourceVersion: String) {
        let info = try resource(apiVersion: apiVersion, kind: kind)
        var items: [JSONObject] = []
        var token: String?
        var version: String?
        let step = "list \(kind)"
        repeat {
            var query = ["limit=\(pageSize)"]
            if let labelSelector { query.append("labelSelector=" + escape(labelSelector)) }
            if let fieldSelector { query.append("fieldSelector=" + escape(fieldSelector)) }
            if let token { query.append("continue=" + escape(token)) }
            let response = try send("GET", info.collectionPath(namespace: namespace) + "?" + query.joined(separator: "&"), step: step, object: nil, timeout: max(timeout, 60))
            guard let json = try? JSON(parsing: response.text) else { throw .malformed(step: step, message: "not JSON") }
            for item in json["items"]?.arrayValue ?? [] {
                guard var object = item.objectValue else { continue }
                // List items omit apiVersion and kind; put them back so they read like objects.
                object["apiVersion"] = .string(info.apiVersion)
                object["kind"] = .string(kind)
                items.append(object)
            }
            if version == nil { version = json["metadata"]?["resourceVersion"]?.stringValue }
            token = json["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return (items, version ?? "")
    }

    /// The resourceVersion of a list of `kind`: on a Kubernetes server, the newest version of the
    /// whole store at the time of the read (it moves with every write).
    public func listResourceVersion(apiVersion: String, kind: String) throws(KubeError) -> String {
        let info = try resource(apiVersion: apiVersion, kind: kind)
        let response = try send("GET", info.collectionPath(namespace: nil) + "?limit=1", step: "list \(kind)", object: nil)
        guard let json = try? JSON(parsing: response.text), let version = json["metadata"]?["resourceVersion"]?.stringValue else {
            throw .malformed(step: "list \(kind)", message: "no metadata.resourceVersion")
        }
        return version
    }

    // MARK: - Writes

    /// Server-side apply (`application/apply-patch+yaml`, JSON being YAML) as `fieldManager`.
    public func apply(_ object: JSONObject, force: Bool = false, dryRun: Bool = false) throws(KubeError) -> JSONObject {
        let reference = Manifest(owner: "", object: object).reference
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        var query = ["fieldManager=\(escape(fieldManager))"]
        if force { query.append("force=true") }
        if dryRun { query.append("dryRun=All") }
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name) + "?" + query.joined(separator: "&")
        let step = dryRun ? "dry-run" : "apply"
        let response = try send("PATCH", path, body: JSON.object(object).compactBytes, contentType: "application/apply-patch+yaml",
                                step: step, object: reference, dryRun: dryRun)
        return try decodeObject(response, step: step, object: reference)
    }

    /// Deletes the object; false when it was already gone. `propagationPolicy` says what happens to its
    /// dependents (objects whose ownerReferences name it): deleted in the background (the default, as
    /// kubectl), deleted before it (Foreground), or left without an owner (Orphan).
    @discardableResult
    public func delete(_ reference: ObjectReference, propagationPolicy: PropagationPolicy = .background, dryRun: Bool = false) throws(KubeError) -> Bool {
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name) + (dryRun ? "?dryRun=All" : "")
        let body: JSON = ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": .string(propagationPolicy.rawValue)]
        let response = try send("DELETE", path, body: body.compactBytes, contentType: "application/json", step: "delete",
                                object: reference, allowNotFound: true, dryRun: dryRun)
        return response.status != 404
    }

    // MARK: - Transport

    func namespace(of reference: ObjectReference, _ info: ResourceInfo) -> String? {
        info.namespaced ? (reference.namespace ?? config.namespace) : nil
    }

    func decodeObject(_ response: HTTPResponse, step: String, object: ObjectReference?) throws(KubeError) -> JSONObject {
        guard let json = try? JSON(parsing: response.text), let value = json.objectValue else {
            throw .malformed(step: step, message: "expected an object, got \(response.text.prefix(120))")
        }
        return value
    }

    func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil, step: String,
                      object: ObjectReference?, allowNotFound: Bool = false, dryRun: Bool = false, timeout: TimeInterval? = nil) throws(KubeError) -> HTTPResponse {
        let request = HTTPRequest(method: method, url: config.server + path, headers: headers(contentType: contentType), body: body,
                                  timeout: timeout ?? self.timeout)
        var attempt = 1
        while true {
            counts.withLock {
                if method == "GET" { $0.reads += 1 } else if dryRun { $0.dryRuns += 1 } else { $0.writes += 1 }
                if attempt > 1 { $0.retries += 1 }
            }
            let response: HTTPResponse
            do {
                response = try http.send(request)
            } catch {
                // A request that never reached the server is safe to send again; a timeout may have
                // been applied, but apply and delete are idempotent.
                if attempt < retry.attempts, error.kind == .connect || error.kind == .timeout {
                    Thread.sleep(forTimeInterval: retry.delay(afterAttempt: attempt, retryAfter: nil))
                    attempt += 1
                    continue
                }
                throw .transport(error, server: config.server, step: object == nil ? step : "\(object!) \(step)")
            }
            if (200..<300).contains(response.status) || (allowNotFound && response.status == 404) { return response }
            if attempt < retry.attempts, [429, 500, 502, 503, 504].contains(response.status) {
                Thread.sleep(forTimeInterval: retry.delay(afterAttempt: attempt, retryAfter: response.headers["retry-after"]))
                attempt += 1
                continue
            }
            throw .status(KubeStatus(code: response.status, body: response.body), object: object, step: step)
        }
    }

    func headers(contentType: String? = nil) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("User-Agent", "tenantry")]
        if let token = config.token { headers.append(("Authorization", "Bearer \(token)")) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        return headers
    }

    func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
