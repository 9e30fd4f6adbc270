import Access
import Apply
import Artifacts
import Audit
import Foundation
import HTTPServer
import Model
import Sessions

/// `GET /api/v1/namespaces/{ns}/sessions/{id}/logs[?follow=true]`: the runner's log, from the session's Pod
/// (the cluster's `pods/log`) while the Pod is there, from the stored log artifact once it is gone
/// (specs/sessions-api.md, "Logs"). Authorized as `get` on `sessions/logs`; the read is recorded first.
extension SessionsAPI {
    static let logArtifact = "runner.log"

    func sessionLogs(_ call: APICall) -> Response {
        let (namespace, name, traceID) = (call.namespace, call.session, call.traceID)
        guard let streams else { return unavailable("session logs are not served here: the API has no cluster to read them from", traceID) }
        let caller: Caller
        switch gate.caller(authorization: call.authorization) {
        case .success(let found): caller = found
        case .failure(let failure): return answer(failure, traceID)
        }
        if case .failure(let failure) = gate.authorize(caller, .logs, namespace: namespace, session: name) {
            return failure.status == 403
                ? recorded(failure, namespace: namespace, session: name, actor: caller.user, action: "view", resource: "sessions/logs", traceID)
                : answer(failure, traceID)
        }
        var follow = false
        if let text = call.query("follow") {
            guard let value = ["true": true, "1": true, "false": false, "0": false][text] else {
                return invalid("follow", "follow must be true or false, got \"\(text.prefix(40))\"", traceID)
            }
            follow = value
        }
        let session: SessionObject
        switch LogSource.session(streams.client, namespace: namespace, name: name) {
        case .found(let found): session = found
        case .missing:
            return answer(AccessFailure(status: 404, error: "not_found", message: "session \"\(name.prefix(253))\" not found in namespace \"\(namespace)\"",
                                        details: ["session": .string(name)]), traceID)
        case .unreadable(let message): return unavailable(message, traceID)
        }
        do {
            try audit.append(AuditRecord(namespace: namespace, session: name, actor: caller.user, action: "view", resource: "sessions/logs",
                                         outcome: "succeeded", details: ["follow": .bool(follow)], traceID: traceID))
        } catch {
            return unavailable("the audit trail cannot be written: \(error)", traceID)
        }
        let source = LogSource(client: streams.client, artifacts: streams.artifacts, podPoll: streams.options.podPoll)
        let headers = ["Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Trace-Id": traceID, "X-Content-Type-Options": "nosniff"]
        guard follow else {
            switch source.whole(session) {
            case .success(let bytes): return Response(status: 200, headers: headers, body: bytes)
            case .failure(let failure): return answer(failure, traceID)
            }
        }
        let relay = LogRelay()
        let thread = Thread { source.follow(session, into: relay) }
        thread.name = "session-log-\(namespace)/\(name)"
        thread.start()
        return Response(status: 200, headers: headers, stream: ResponseStream(next: { relay.next() }, cancel: { relay.cancel() }))
    }
}

/// Where a session's log is read from, and how.
struct LogSource: Sendable {
    let client: KubeClient
    let artifacts: (any ArtifactStore)?
    let podPoll: TimeInterval

    enum Lookup {
        case found(SessionObject)
        case missing
        case unreadable(String)
    }

    static func session(_ client: KubeClient, namespace: String, name: String) -> Lookup {
        do {
            guard let object = try client.get(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, name: name)) else {
                return .missing
            }
            return .found(try SessionObject(object: object))
        } catch let error as KubeError {
            return .unreadable("cannot read session \(namespace)/\(name) from the cluster: \(error); try again")
        } catch {
            return .unreadable("session \(namespace)/\(name) cannot be read: \(error)")
        }
    }

    /// The log as it is now: the Pod's, else the stored artifact; empty while a live session's container has not started.
    func whole(_ session: SessionObject) -> Result<Data, AccessFailure> {
        if let pod = session.status.workload.podName {
            var bytes = Data()
            do {
                try client.streamPodLog(namespace: session.namespace, pod: pod, follow: false) { chunk in
                    bytes.append(contentsOf: chunk)
                    return true
                }
                return .success(bytes)
            } catch {
                // 404: the Pod is gone (the stored log has it); 400: its container has not started.
                guard [400, 404].contains(error.status?.code ?? 0) else { return .failure(Self.unavailable("the Pod's log cannot be read: \(error)")) }
            }
        }
        switch stored(session) {
        case .success(let bytes?): return .success(bytes)
        case .success(nil):
            guard session.status.isFinal else { return .success(Data()) }
            return .failure(AccessFailure(status: 404, error: "not_found",
                                          message: "session \"\(session.name)\" has no log: its Pod is gone and no \(SessionsAPI.logArtifact) artifact was stored",
                                          details: ["session": .string(session.name)]))
        case .failure(let failure): return .failure(failure)
        }
    }

    /// Follows the log into `relay` until the container ends, the session ends without a Pod, or the reader leaves.
    /// A session without a running Pod yet is looked at again every `podPoll` seconds.
    func follow(_ first: SessionObject, into relay: LogRelay) {
        var session = first
        var sent = false
        defer { relay.finish() }
        while !relay.isCancelled {
            if let pod = session.status.workload.podName {
                do {
                    try client.streamPodLog(namespace: session.namespace, pod: pod, follow: true, isCancelled: { relay.isCancelled }) { chunk in
                        sent = true
                        return relay.push(Data(chunk))
                    }
                    return
                } catch {
                    if error.status?.code == 404 {
                        // The Pod went away: what it wrote is in the stored log, unless part of it was already sent.
                        if !sent, case .success(let bytes?) = stored(session) { _ = relay.push(bytes) }
                        return
                    }
                    guard error.status?.code == 400 else { return }
                }
            } else if session.status.isFinal {
                if case .success(let bytes?) = stored(session) { _ = relay.push(bytes) }
                return
            }
            guard relay.wait(podPoll) else { return }
            guard case .found(let now) = Self.session(client, namespace: session.namespace, name: session.name) else { return }
            session = now
        }
    }

    /// The stored log artifact, nil when there is none.
    private func stored(_ session: SessionObject) -> Result<Data?, AccessFailure> {
        guard let artifacts else { return .success(nil) }
        do {
            let key = try ArtifactKey(namespace: session.namespace, session: session.name, name: SessionsAPI.logArtifact)
            return .success(Data(try artifacts.get(key, range: nil).bytes))
        } catch {
            if case .notFound = error { return .success(nil) }
            return .failure(Self.unavailable("the stored log cannot be read: \(error)"))
        }
    }

    private static func unavailable(_ message: String) -> AccessFailure {
        AccessFailure(status: 503, error: "unavailable", message: message + "; try again", headers: ["Retry-After": "1"])
    }
}

/// Hands a followed log from its reading thread to the HTTP server's stream pump: `push` waits while a slow
/// client has a megabyte unread, `next` waits for bytes or the end, `cancel` (the client left) ends both.
/// Unchecked Sendable: every field is guarded by `condition`.
final class LogRelay: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = Data()
    private var finished = false
    private var cancelled = false
    private static let highWater = 1 << 20

    var isCancelled: Bool { condition.withLock { cancelled } }

    /// false once the reader is gone.
    func push(_ bytes: Data) -> Bool {
        condition.withLock {
            while pending.count >= Self.highWater && !cancelled { condition.wait() }
            guard !cancelled else { return false }
            pending.append(bytes)
            condition.broadcast()
            return true
        }
    }

    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    func cancel() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
    }

    /// Waits `seconds` (less when cancelled); false when cancelled.
    func wait(_ seconds: TimeInterval) -> Bool {
        condition.withLock {
            let deadline = Date().addingTimeInterval(seconds)
            while !cancelled, condition.wait(until: deadline) {}
            return !cancelled
        }
    }

    func next() -> Data? {
        condition.withLock {
            while pending.isEmpty && !finished && !cancelled { condition.wait() }
            guard !pending.isEmpty, !cancelled else { return nil }
            defer {
                pending = Data()
                condition.broadcast()
            }
            return pending
        }
    }
}
