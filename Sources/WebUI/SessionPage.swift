import Foundation
import HTTPServer
import Model

/// One session: the spec in brief, conditions, the history as a timeline, the log (followed live by the script
/// while it runs), artifacts, and the stop / approve / reject / rerun buttons the caller's permission allows.
extension WebUI {
    static let finalPhases: Set<String> = ["Completed", "Failed", "Stopped"]

    func sessionPage(_ context: Context, namespace: String, id: String, notice: HTML = "", status: Int = 200) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        guard Self.validNamespace(namespace), Self.validSessionID(id) else {
            return errorPage(context, status: 400, title: "Bad name", message: "\(namespace)/\(id) does not name a session.")
        }
        let answer = api.call("GET", "/api/v1/namespaces/\(namespace)/sessions/\(id)", query: ["includeHistory": "true", "includeArtifacts": "true"],
                              token: token, traceID: context.traceID)
        guard answer.status == 200, let session = answer.json else { return refusal(context, answer) }
        let entry = namespaceEntry(context, token: token, namespace: namespace)
        let phase = session["phase"]?.stringValue ?? "Unknown"
        let running = !Self.finalPhases.contains(phase)
        let base = "/namespaces/\(namespace)/sessions/\(id)"

        let spec = session["spec"]
        let payload = spec?["trigger"]?["payload"]
        let tools = (spec?["policy"]?["toolConstraints"]?["allowed"]?.arrayValue ?? []).compactMap(\.stringValue)
        // The summary's fields are the API's one SessionSummary (as the list and the live events show them); the spec
        // adds only what the summary leaves out (the tools, the trigger's text).
        let title = session["description"]?.stringValue ?? ""
        let awaitingDecision = phase == "Pending" && session["approvalRequired"]?.boolValue == true && session["approval"]?["decision"] == nil
        let approvalBadge: HTML = awaitingDecision ? " <span class=\"badge approval\">needs approval</span>" : ""
        let summary: HTML = """
        <dl class="facts">
        <dt>Phase</dt><dd>\(Layout.badge(phase))\(approvalBadge)</dd>
        <dt>Trigger</dt><dd>\(Format.trigger(source: session["source"]?.stringValue, event: session["event"]?.stringValue, url: session["url"]?.stringValue))</dd>
        <dt>Framework</dt><dd>\(session["framework"]?.stringValue ?? "—")</dd>
        <dt>Model</dt><dd>\(session["model"]?.stringValue ?? "—")</dd>
        <dt>Tools</dt><dd>\(tools.isEmpty ? "—" : tools.joined(separator: ", "))</dd>
        <dt>Repository</dt><dd>\(session["repository"]?.stringValue ?? "—")</dd>
        <dt>Started by</dt><dd>\(session["createdBy"]?.stringValue ?? "—")</dd>
        <dt>Created</dt><dd>\(Format.time(Format.date(session["createdAt"]?.stringValue), now: Date()))</dd>
        <dt>Duration</dt><dd>\(Format.duration(from: Format.date(session["startedAt"]?.stringValue), to: Format.date(session["completedAt"]?.stringValue), now: Date()))</dd>
        <dt>Cost</dt><dd>\(session["cost"]?.stringValue ?? "—")</dd>
        \(session["parent"]?.stringValue.map { parent -> HTML in "<dt>Rerun of</dt><dd><a href=\"/namespaces/\(namespace)/sessions/\(HTML.component(parent))\">\(parent)</a></dd>" } ?? "")
        \(session["approval"]?["decision"]?.stringValue.map { decision -> HTML in "<dt>Approval</dt><dd>\(decision) by \(session["approval"]?["by"]?.stringValue ?? "?")</dd>" } ?? "")
        </dl>
        """
        let bodyText: HTML = (payload?["body"]?.stringValue).map { "<details><summary>Trigger text</summary><pre class=\"wrap\">\($0)</pre></details>" } ?? ""

        let conditions = session["conditions"]?.arrayValue ?? []
        let conditionRows: [HTML] = conditions.map { condition in
            "<tr><th scope=\"row\">\(condition["type"]?.stringValue)</th><td>\(condition["status"]?.stringValue)</td><td>\(condition["reason"]?.stringValue)</td><td>\(condition["message"]?.stringValue)</td></tr>"
        }
        let conditionTable: HTML = conditions.isEmpty ? "<p>None yet.</p>" : """
        <div class="scroll"><table><thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
        <tbody>\(conditionRows)</tbody></table></div>
        """
        let history = session["history"]?.arrayValue ?? []
        let events: [HTML] = history.map { item in
            let at = Format.date(item["timestamp"]?.stringValue)
            let actor: HTML = item["actor"]?.stringValue.map { " by \($0)" } ?? ""
            let data: HTML = item["data"].map { data -> HTML in data.objectValue?.isEmpty == false ? "<code>\(data.compactText)</code>" : "" } ?? ""
            return "<li><time datetime=\"\(at.map(Format.rfc3339) ?? "")\">\(at.map(Format.rfc3339) ?? "")</time> <strong>\(item["event"]?.stringValue)</strong>\(actor) \(data)</li>"
        }
        let timeline: HTML = events.isEmpty ? "<p>No history yet.</p>" : "<ol class=\"timeline\">\(events)</ol>"

        let artifacts = session["artifacts"]?.arrayValue ?? []
        let artifactRows: [HTML] = artifacts.map { artifact in
            let name = artifact["name"]?.stringValue ?? ""
            let href = "\(base)/artifacts/\(HTML.component(name))"
            let preview: HTML = Preview.kind(name: name, contentType: artifact["contentType"]?.stringValue) == nil ? "" : " <a href=\"\(href)?view=1\">Preview</a>"
            return """
            <tr><th scope="row">\(name)</th><td>\(artifact["type"]?.stringValue ?? "")</td><td class="num">\(Format.bytes(artifact["size"]?.intValue ?? 0))</td>
            <td><a href="\(href)" download>Download</a>\(preview)</td></tr>
            """
        }
        let artifactTable: HTML = artifacts.isEmpty ? "<p>No artifacts yet.</p>" : """
        <div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col" class="num">Size</th><th scope="col">Get</th></tr></thead>
        <tbody>\(artifactRows)</tbody></table></div>
        """

        let log = logTail(context, token: token, namespace: namespace, id: id)
        let editor = Permission.atLeastEditor(entry)
        var buttons: [HTML] = []
        if editor && running { buttons.append(actionForm(context, base, "stop", "Stop", danger: true)) }
        if Permission.canApprove(entry) && awaitingDecision {
            buttons.append(actionForm(context, base, "approve", "Approve"))
            buttons.append(actionForm(context, base, "reject", "Reject", danger: true))
        }
        if editor && !running { buttons.append(actionForm(context, base, "rerun", "Rerun")) }
        let actions: HTML = buttons.isEmpty ? "" : "<div class=\"actions\" role=\"group\" aria-label=\"Actions\">\(buttons)</div>"
        let body: HTML = """
        <div id="session-live">
        <div class="title-row"><h1>\(id)</h1>\(actions)</div>
        \(notice)
        <p class="lead">\(title)</p>
        \(summary)
        \(bodyText)
        <section aria-labelledby="conditions"><h2 id="conditions">Conditions</h2>\(conditionTable)</section>
        <section aria-labelledby="history"><h2 id="history">History</h2>\(timeline)</section>
        <section aria-labelledby="artifacts"><h2 id="artifacts">Artifacts</h2>\(artifactTable)</section>
        </div>
        <section aria-labelledby="log-heading"><h2 id="log-heading">Log</h2>
        <pre id="log" class="log" tabindex="0" aria-live="off" data-follow="\(running ? "\(base)/log?follow=true" : "")">\(log)</pre></section>
        """
        let live: HTML = " data-events=\"/namespaces/\(namespace)/events\" data-session=\"\(id)\" data-refresh=\"session-live\""
        return page(Layout.document(title: id, context: context, namespace: namespace, body: body, live: live), status: status)
    }

    private func actionForm(_ context: Context, _ base: String, _ action: String, _ label: String, danger: Bool = false) -> HTML {
        """
        <form method="post" action="\(base)/\(action)">\(Layout.csrfField(context))<button type="submit" name="action" value="\(action)"\(danger ? " class=\"danger\"" : "" as HTML)>\(label)</button></form>
        """
    }

    /// The last 64 KiB of the log as the API has it now (text, escaped when interpolated).
    private func logTail(_ context: Context, token: String, namespace: String, id: String) -> String {
        let answer = api.call("GET", "/api/v1/namespaces/\(namespace)/sessions/\(id)/logs", token: token, traceID: context.traceID)
        guard answer.status == 200 else { return answer.status == 404 ? "" : "(the log is not available: \(answer.message))" }
        let data: Data
        switch answer.response.body {
        case .bytes(let bytes): data = bytes
        case .stream(let stream): data = stream.collect(limit: 8 << 20)
        }
        let tail = data.count > 65_536 ? data.suffix(65_536) : data
        return String(decoding: tail, as: UTF8.self)
    }

    /// Stop, approve, reject, rerun: the API decides (a forged post from someone who may not gets its 403).
    func steer(_ context: Context, namespace: String, id: String, action: SteerAction) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        let form = Form(context.request.body).first
        guard csrfValid(context, form) else { return errorPage(context, status: 403, title: "Forbidden", message: "The form had expired or did not come from this site; reload and try again.") }
        guard Self.validNamespace(namespace), Self.validSessionID(id) else { return errorPage(context, status: 400, title: "Bad name", message: "\(namespace)/\(id) does not name a session.") }
        var body: JSON?
        if action == .approve || action == .reject, let reason = form["reason"], !reason.isEmpty { body = ["reason": .string(String(reason.prefix(2000)))] }
        let answer = api.call("POST", "/api/v1/namespaces/\(namespace)/sessions/\(id)/\(action.rawValue)", token: token, body: body, traceID: context.traceID)
        switch answer.status {
        case 200, 201, 202:
            if action == .rerun, let next = answer.json?["id"]?.stringValue, Self.validSessionID(next) { return redirect("/namespaces/\(namespace)/sessions/\(next)") }
            return redirect("/namespaces/\(namespace)/sessions/\(id)")
        case 401: return redirect("/login?expired=1", clearing: true)
        case 409, 429:
            return sessionPage(context, namespace: namespace, id: id, notice: "<p class=\"error\" role=\"alert\">\(answer.message)</p>", status: answer.status)
        default: return refusal(context, answer)
        }
    }

    /// The artifact's bytes as the API streams them, as an attachment (never rendered as a page of this origin).
    func download(_ context: Context, namespace: String, id: String, name: String) -> Response {
        var response = passThrough(context, "/api/v1/namespaces/\(namespace)/sessions/\(id)/artifacts/\(name)",
                                   forward: ["range"], headers: ["Range", "Content-Range", "Content-Length", "Accept-Ranges"])
        if response.status == 200 || response.status == 206 {
            let safe = String(name.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }.map(Character.init))
            response.headers["Content-Disposition"] = "attachment; filename=\"\(safe)\""
            response.headers["Content-Type"] = "application/octet-stream"
        }
        return response
    }

    /// An API answer handed to the browser as it is (events, logs, artifact bytes), body streamed; with the
    /// cookie's token as the bearer. Only text/event-stream, text/plain and octet-stream bodies pass.
    func passThrough(_ context: Context, _ path: String, query: [String: String] = [:], forward: [String] = ["last-event-id"],
                     headers kept: [String] = []) -> Response {
        guard let token = context.token else {
            return secured(Response(status: 401, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data("log in first\n".utf8)))
        }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 4, Self.validNamespace(parts[3]), parts.count < 6 || Self.validSessionID(parts[5]) else {
            return secured(Response(status: 400, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data("bad name\n".utf8)))
        }
        var extra: [String: String] = [:]
        for name in forward { if let value = context.request.headers[name] { extra[name] = value } }
        let answer = api.call("GET", path, query: query, token: token, headers: extra, traceID: context.traceID)
        let type = answer.response.header("content-type") ?? "application/octet-stream"
        var headers: [String: String] = ["Content-Type": type.hasPrefix("text/event-stream") ? "text/event-stream" : type.hasPrefix("text/plain") ? "text/plain; charset=utf-8" : "application/octet-stream"]
        for name in kept { if let value = answer.response.header(name.lowercased()) { headers[name] = value } }
        guard (200...299).contains(answer.status) else {
            return secured(Response(status: answer.status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data((answer.message + "\n").utf8)))
        }
        return secured(Response(status: answer.status, headers: headers, body: answer.response.body))
    }
}

extension Response {
    init(status: Int, headers: [String: String], body: Response.Body) {
        switch body {
        case .bytes(let data): self.init(status: status, headers: headers, body: data)
        case .stream(let stream): self.init(status: status, headers: headers, stream: stream)
        }
    }
}
