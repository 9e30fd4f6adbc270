import Access
import Apply
import Artifacts
import Audit
import Foundation
import HTTPServer
import Model
import Sessions

/// `GET …/sessions/{id}/artifacts[/{name}]` (get on `sessions/artifacts`) and the runner's
/// `PUT …/artifacts/{name}`: a TokenReview for the runner audience (`tenantry`), allowed only to
/// `system:serviceaccount:{ns}:session-runner` from the Pod the Session's status names.
extension SessionsAPI {
    func listArtifacts(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, SessionAction.artifacts, audit: "view") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        if case .failure(let refused) = fetch(call, admitted.cluster) { return refused.response }
        let entries: [JSON]
        switch artifactEntries(namespace: call.namespace, session: call.session, call.traceID) {
        case .success(let found): entries = found
        case .failure(let refused): return refused.response
        }
        if let refused = record(AuditRecord(namespace: call.namespace, session: call.session, actor: admitted.caller.user, action: "view",
                                            resource: "sessions/artifacts", outcome: "succeeded", traceID: call.traceID)) { return refused }
        return json(200, ["artifacts": .array(entries)], call.traceID)
    }

    func getArtifact(_ call: APICall) -> Response {
        let admitted: Admitted
        switch enter(call, SessionAction.artifacts, audit: "view") {
        case .success(let found): admitted = found
        case .failure(let refused): return refused.response
        }
        guard let store = artifacts else { return unavailable("the Sessions API has no artifact storage", call.traceID) }
        let name: String
        switch artifactName(call) {
        case .success(let found): name = found
        case .failure(let refused): return refused.response
        }
        if case .failure(let refused) = fetch(call, admitted.cluster) { return refused.response }
        do {
            let key = try ArtifactKey(namespace: call.namespace, session: call.session, name: name)
            var response = try ArtifactAPI.download(store, key, range: call.request.headers["range"])
            if let refused = record(AuditRecord(namespace: call.namespace, session: call.session, actor: admitted.caller.user, action: "view",
                                                resource: "sessions/artifacts", outcome: "succeeded", details: ["artifact": .string(name)],
                                                traceID: call.traceID)) { return refused }
            response.headers["X-Trace-Id"] = call.traceID
            response.headers["Cache-Control"] = "no-store"
            return response
        } catch {
            return artifactFailure(error, call.traceID)
        }
    }

    func putArtifact(_ call: APICall) -> Response {
        guard let runnerTokens else { return unavailable("the Sessions API has no TokenReview for runner tokens", call.traceID) }
        guard let store = artifacts else { return unavailable("the Sessions API has no artifact storage", call.traceID) }
        let caller: Caller
        do {
            caller = try runnerTokens.authenticate(try Authenticator.bearerToken(call.authorization))
        } catch {
            return answer(AccessFailure(status: 401, error: error.code.rawValue, message: error.message, headers: ["WWW-Authenticate": error.challenge]), call.traceID)
        }
        guard NamespaceName.isValid(call.namespace), Self.isSessionName(call.session) else {
            return invalid("namespace", "not a namespace and session name", call.traceID)
        }
        guard let cluster else { return unavailable("the Sessions API has no cluster to read sessions from", call.traceID) }
        let runner = "system:serviceaccount:\(call.namespace):session-runner"
        let pod = caller.extra["authentication.kubernetes.io/pod-name"]?.first
        let name: String
        switch artifactName(call) {
        case .success(let found): name = found
        case .failure(let refused): return refused.response
        }
        let forbidden = AccessFailure(status: 403, error: "forbidden",
                                      message: "\(caller.user) may not upload artifacts of session \(call.namespace)/\(call.session): only the session-runner ServiceAccount from the Pod running the session may",
                                      details: ["verb": "create", "resource": "sessions/artifacts", "namespace": .string(call.namespace)])
        // The identity is checked before the Session is looked up, so a stranger learns nothing about it.
        guard caller.user == runner, pod != nil else {
            return recorded(forbidden, namespace: call.namespace, session: call.session, actor: caller.user, action: "create", resource: "sessions/artifacts", call.traceID)
        }
        let view: SessionView
        switch fetch(call, cluster) {
        case .success(let found): view = found
        case .failure(let refused): return refused.response
        }
        guard pod == view.session.status.workload.podName else {
            return recorded(forbidden, namespace: call.namespace, session: call.session, actor: caller.user, action: "create", resource: "sessions/artifacts", call.traceID)
        }
        do {
            let key = try ArtifactKey(namespace: call.namespace, session: call.session, name: name)
            let info = try store.put(key, bytes: Array(call.request.body), contentType: call.request.headers["content-type"] ?? "application/octet-stream")
            if let refused = record(AuditRecord(namespace: call.namespace, session: call.session, actor: caller.user, action: "create",
                                                resource: "sessions/artifacts", outcome: "succeeded",
                                                details: ["artifact": .string(name), "size": .int(info.size), "pod": .string(pod ?? "")],
                                                traceID: call.traceID)) { return refused }
            return json(201, ArtifactAPI.entry(info), call.traceID)
        } catch {
            return artifactFailure(error, call.traceID)
        }
    }

    /// The contract's artifact name: what the runner uploads (runner.log, workspace.patch, out_report.md).
    static let artifactNamePattern = #"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"#

    /// The `{name}` of the path, or the 400 naming it.
    func artifactName(_ call: APICall) -> Result<String, Answered> {
        let name = call.parameters["name"] ?? ""
        guard name.utf8.count <= 253, name.unicodeScalars.allSatisfy(\.isASCII), name.range(of: Self.artifactNamePattern, options: .regularExpression) != nil else {
            return .failure(invalid("name", "\"\(name.prefix(80))\" is not an artifact name: letters, digits, '_' and '-' in dot-separated parts, at most 253", call.traceID))
        }
        return .success(name)
    }

    func artifactEntries(namespace: String, session: String, _ traceID: String) -> Result<[JSON], Answered> {
        guard let store = artifacts else { return .failure(unavailable("the Sessions API has no artifact storage", traceID)) }
        do throws(ArtifactError) {
            return .success(try store.list(namespace: namespace, session: session).map(ArtifactAPI.entry))
        } catch {
            return .failure(artifactFailure(error, traceID))
        }
    }

    private func artifactFailure(_ error: ArtifactError, _ traceID: String) -> Response {
        switch error {
        case .invalidName: return answer(AccessFailure(status: 400, error: "invalid_request", message: error.description, details: ["fields": ["name"]]), traceID)
        case .notFound: return notFound(error.description, traceID)
        case .tooLarge: return answer(AccessFailure(status: 413, error: "payload_too_large", message: error.description), traceID)
        case .tooMany: return answer(AccessFailure(status: 403, error: "policy_violation", message: error.description, details: ["rule": "artifacts"]), traceID)
        case .invalidRange: return answer(AccessFailure(status: 416, error: "range_not_satisfiable", message: error.description), traceID)
        case .rangeNotSatisfiable(_, let size):
            var response = answer(AccessFailure(status: 416, error: "range_not_satisfiable", message: error.description), traceID)
            response.headers["Content-Range"] = "bytes */\(size)"
            return response
        case .storage: return unavailable(error.description, traceID)
        }
    }
}
