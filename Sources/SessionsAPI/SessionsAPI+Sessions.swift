import Access
import Apply
import Audit
import Foundation
import HTTPServer
import Model
import Sessions
import Support

/// `GET …/sessions` (list, verb list) and `GET …/sessions/{id}` (get): read from the cluster after the gate,
/// recorded in the audit trail before they are answered.
extension SessionsAPI {
    /// What the gate let through: the caller, and the cluster to ask.
    struct Admitted {
        let caller: Caller
        let cluster: KubeClient
    }

    /// The gate for a namespace endpoint: 401 (not recorded: nobody to name), 403 recorded as denied, a bad session
    /// name 400 (checked after the review, so nothing about the namespace is told first), no cluster 503.
    func enter(_ call: APICall, _ action: SessionAction, audit auditAction: String) -> Result<Admitted, Answered> {
        let caller: Caller
        switch gate.caller(authorization: call.authorization) {
        case .success(let found): caller = found
        case .failure(let failure): return .failure(answer(failure, call.traceID))
        }
        if case .failure(let failure) = gate.authorize(caller, action, namespace: call.namespace, session: call.session) {
            guard failure.status == 403 else { return .failure(answer(failure, call.traceID)) }
            return .failure(recorded(failure, namespace: call.namespace, session: call.session, actor: caller.user, action: auditAction,
                                     resource: Self.resource(action), call.traceID))
        }
        if call.parameters["session"] != nil, !Self.isSessionName(call.session) {
            return .failure(invalid("session", "\"\(call.session.prefix(80))\" is not a session name: lower-case letters, digits, '-' and '.', at most 253", call.traceID))
        }
        guard let cluster else { return .failure(unavailable("the Sessions API has no cluster to read sessions from", call.traceID)) }
        return .success(Admitted(caller: caller, cluster: cluster))
    }

    static func resource(_ action: SessionAction) -> String { action.subresource.isEmpty ? "sessions" : "sessions/\(action.subresource)" }

    static func isSessionName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...253).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return alphanumeric(bytes.first!) && alphanumeric(bytes.last!) && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D || $0 == 0x2E }
    }

    /// Appends the record; nil when it is durable, else the 503 to answer instead.
    func record(_ record: AuditRecord) -> Response? {
        do {
            try audit.append(record)
            return nil
        } catch {
            return unavailable("the audit trail cannot be written: \(error); nothing was done", record.traceID)
        }
    }

    /// The Session, or the answer to send (404 not found, 503 cluster). `cached`: from the session index when it
    /// is in step (reads); steering reads the cluster.
    func fetch(_ call: APICall, _ cluster: KubeClient, cached: Bool = false) -> Result<SessionView, Answered> {
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: call.namespace, name: call.session)
        let object: JSONObject?
        if cached, let known = sessionIndex?.session(call.namespace, call.session) {
            object = known
        } else {
            do {
                object = try cluster.get(reference)
            } catch {
                return .failure(clusterFailure(error, call.traceID))
            }
        }
        guard let object else {
            return .failure(answer(AccessFailure(status: 404, error: "not_found", message: "sessions.ambient.ai \"\(call.session)\" not found in namespace \(call.namespace)",
                                                 details: ["name": .string(call.session), "namespace": .string(call.namespace)]), call.traceID))
        }
        do {
            return .success(try SessionView(object: object))
        } catch {
            return .failure(unavailable("session \(call.namespace)/\(call.session) cannot be read: \(error)", call.traceID))
        }
    }

    func clusterFailure(_ error: KubeError, _ traceID: String) -> Response {
        unavailable("the cluster could not be asked: \(error); try again", traceID)
    }

    func notFound(_ message: String, _ traceID: String) -> Response {
        answer(AccessFailure(status: 404, error: "not_found", message: message), traceID)
    }

    // MARK: - List

    func listSessions(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, .list, audit: "list") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        let traceID = call.traceID
        var limit = 20, offset = 0
        if let text = call.query("limit") {
            guard let value = Int(text), (1...100).contains(value) else { return invalid("limit", "limit must be a whole number from 1 to 100, got \"\(text.prefix(40))\"", traceID) }
            limit = value
        }
        if let text = call.query("offset") {
            guard let value = Int(text), (0...999_999_999).contains(value) else {
                return invalid("offset", "offset must be a whole number from 0 to 999999999, got \"\(text.prefix(40))\"", traceID)
            }
            offset = value
        }
        // The continue token says where the next page starts: with it, offset is ignored.
        if let text = call.query("continue") {
            guard let value = ListToken.offset(text) else { return invalid("continue", "continue must be the token of the previous page", traceID) }
            offset = value
        }
        var phase: Session.Phase?
        if let text = call.query("status") {
            guard let value = Session.Phase(rawValue: text) else {
                return invalid("status", "status must be one of \(Session.Phase.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text.prefix(40))\"", traceID)
            }
            phase = value
        }
        var source: Session.Source?
        if let text = call.query("source") {
            guard let value = Session.Source(rawValue: text) else {
                return invalid("source", "source must be one of \(Session.Source.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text.prefix(40))\"", traceID)
            }
            source = value
        }
        var since: Date?
        if let text = call.query("since") {
            guard let date = Timestamp.parse(text) else { return invalid("since", "since must be an RFC 3339 time such as 2026-12-01T09:00:00Z", traceID) }
            since = date
        }
        var objects: [JSONObject]
        if let cached = sessionIndex?.sessions(in: call.namespace) {
            objects = cached
        } else {
            do {
                objects = try admitted.cluster.list(apiVersion: Session.apiVersion, kind: Session.kind, namespace: call.namespace)
            } catch {
                return clusterFailure(error, traceID)
            }
        }
        let views = objects.compactMap { try? SessionView(object: $0) }
            .filter { view in
                (phase == nil || view.session.status.phase == phase) && (source == nil || view.session.trigger.source == source)
                    && (since.map { view.createdAt >= $0 } ?? true)
            }
            .sorted { ($0.createdAt, $0.session.name) > ($1.createdAt, $1.session.name) }
        let page = views.dropFirst(offset).prefix(limit)
        let hasMore = offset + page.count < views.count
        if let refused = record(AuditRecord(namespace: call.namespace, actor: admitted.caller.user, action: "list", resource: "sessions", outcome: "succeeded",
                                            details: ["returned": .int(page.count), "total": .int(views.count)], traceID: traceID)) { return refused }
        var body: JSONObject = ["sessions": .array(page.map { .object($0.summary) }), "total": .int(views.count), "hasMore": .bool(hasMore)]
        if hasMore { body["continue"] = .string(ListToken.token(offset: offset + page.count)) }
        return json(200, .object(body), traceID)
    }

    // MARK: - Get

    func getSession(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, .get, audit: "view") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        let history: Bool, withArtifacts: Bool
        switch (Self.flag(call, "includeHistory"), Self.flag(call, "includeArtifacts")) {
        case (.success(let h), .success(let a)): (history, withArtifacts) = (h, a)
        case (.failure(let field), _), (_, .failure(let field)):
            return invalid(field.name, "\(field.name) must be true or false", call.traceID)
        }
        let view: SessionView
        switch fetch(call, admitted.cluster, cached: true) {
        case .success(let found): view = found
        case .failure(let refused): return refused.response
        }
        var listed: [JSON]?
        if withArtifacts {
            // The artifacts are a subresource the caller needs its own grant for.
            if case .failure(let failure) = gate.authorize(admitted.caller, .artifacts, namespace: call.namespace, session: call.session) {
                return failure.status == 403
                    ? recorded(failure, namespace: call.namespace, session: call.session, actor: admitted.caller.user, action: "view", resource: "sessions/artifacts", call.traceID)
                    : answer(failure, call.traceID)
            }
            switch artifactEntries(namespace: call.namespace, session: call.session, call.traceID) {
            case .success(let entries): listed = entries
            case .failure(let refused): return refused.response
            }
        }
        if let refused = record(AuditRecord(namespace: call.namespace, session: call.session, actor: admitted.caller.user, action: "view", resource: "sessions",
                                            outcome: "succeeded", traceID: call.traceID)) { return refused }
        return json(200, view.detail(history: history, artifacts: listed), call.traceID)
    }

    struct BadFlag: Error { let name: String }

    static func flag(_ call: APICall, _ name: String) -> Result<Bool, BadFlag> {
        switch call.query(name) {
        case nil, "false": return .success(false)
        case "true": return .success(true)
        default: return .failure(BadFlag(name: name))
        }
    }
}

/// The list's `continue` token: the offset of the next page, opaque to clients.
enum ListToken {
    static func token(offset: Int) -> String { "o" + String(offset) }

    static func offset(_ token: String) -> Int? {
        guard token.hasPrefix("o"), let value = Int(token.dropFirst()), value >= 0 else { return nil }
        return value
    }
}
