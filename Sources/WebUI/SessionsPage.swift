import Foundation
import HTTPServer
import Model

/// The sessions of a namespace, newest first: phase filter, source filter, pages of 20; the script module
/// replaces the table body when the namespace's event stream says something changed.
extension WebUI {
    static let phases = ["Pending", "Running", "Completed", "Failed", "Stopped"]
    static let sources = ["github", "jira", "slack", "generic", "manual"]
    static let pageSize = 20

    func sessionsPage(_ context: Context, namespace: String) -> Response {
        guard let (token, state) = requireLogin(context) else { return redirect("/login") }
        guard Self.validNamespace(namespace) else { return errorPage(context, status: 400, title: "Bad namespace", message: "\(namespace) is not a namespace name.") }
        let query = context.request.query
        var apiQuery: [String: String] = ["limit": String(Self.pageSize)]
        let phase = query["status"].flatMap { Self.phases.contains($0) ? $0 : nil }
        let source = query["source"].flatMap { Self.sources.contains($0) ? $0 : nil }
        let offset = max(0, Int(query["offset"] ?? "") ?? 0)
        if let phase { apiQuery["status"] = phase }
        if let source { apiQuery["source"] = source }
        if offset > 0 { apiQuery["offset"] = String(offset) }
        let answer = api.call("GET", "/api/v1/namespaces/\(namespace)/sessions", query: apiQuery, token: token, traceID: context.traceID)
        guard answer.status == 200, let list = answer.json else { return refusal(context, answer) }
        let entry = namespaceEntry(context, token: token, namespace: namespace)
        let sessions = list["sessions"]?.arrayValue ?? []
        let total = list["total"]?.intValue ?? sessions.count
        let hasMore = list["hasMore"]?.boolValue ?? false
        let now = Date()

        func link(offset: Int) -> String {
            var parts: [String] = []
            if let phase { parts.append("status=\(phase)") }
            if let source { parts.append("source=\(source)") }
            if offset > 0 { parts.append("offset=\(offset)") }
            return "/namespaces/\(namespace)/sessions" + (parts.isEmpty ? "" : "?" + parts.joined(separator: "&"))
        }
        let create: HTML = Permission.atLeastEditor(entry) ? "<a class=\"button\" href=\"/namespaces/\(namespace)/sessions/new\">New session</a>" : ""
        let phaseOptions: [HTML] = [HTML("<option value=\"\">any phase</option>")] + Self.phases.map { value in
            "<option value=\"\(value)\"\(phase == value ? " selected" : "")>\(value)</option>"
        }
        let sourceOptions: [HTML] = [HTML("<option value=\"\">any source</option>")] + Self.sources.map { value in
            "<option value=\"\(value)\"\(source == value ? " selected" : "")>\(value)</option>"
        }
        let rows: [HTML] = sessions.map { Self.row($0, namespace: namespace, now: now) }
        let empty: HTML = sessions.isEmpty ? "<tr><td colspan=\"8\" class=\"empty\">No sessions match.</td></tr>" : ""
        var pager: [HTML] = []
        if offset > 0 { pager.append("<a rel=\"prev\" href=\"\(link(offset: max(0, offset - Self.pageSize)))\">Newer</a>") }
        if hasMore { pager.append("<a rel=\"next\" href=\"\(link(offset: offset + Self.pageSize))\">Older</a>") }
        let shown: HTML = sessions.isEmpty ? "0 of \(total)" : "\(offset + 1)–\(offset + sessions.count) of \(total)"
        let body: HTML = """
        <div class="title-row"><h1>Sessions in \(namespace)</h1>\(create)</div>
        <form method="get" action="/namespaces/\(namespace)/sessions" class="filters" aria-label="Filter sessions">
        <label for="status">Phase</label><select id="status" name="status">\(phaseOptions)</select>
        <label for="source">Source</label><select id="source" name="source">\(sourceOptions)</select>
        <button type="submit">Filter</button></form>
        <p class="count" id="session-count" role="status" aria-live="polite">Showing \(shown)</p>
        <div class="scroll"><table class="sessions"><caption class="visually-hidden">Sessions</caption>
        <thead><tr><th scope="col">Session</th><th scope="col">Phase</th><th scope="col">Trigger</th><th scope="col">Started by</th>
        <th scope="col">Age</th><th scope="col">Duration</th><th scope="col" class="num">Cost</th></tr></thead>
        <tbody id="session-rows">\(rows)\(empty)</tbody></table></div>
        <nav class="pager" aria-label="Pages">\(pager)</nav>
        """
        var remembered = state
        remembered.namespace = namespace
        let live: HTML = " data-events=\"/namespaces/\(namespace)/events\" data-refresh=\"session-rows session-count\""
        return page(Layout.document(title: "Sessions in \(namespace)", context: context, namespace: namespace, body: body, live: live),
                    setting: remembered.namespace == state.namespace ? nil : remembered)
    }

    /// One row of the list (a SessionSummary).
    static func row(_ session: JSON, namespace: String, now: Date) -> HTML {
        let id = session["id"]?.stringValue ?? ""
        let phase = session["phase"]?.stringValue ?? "Unknown"
        let approval: HTML = session["approvalRequired"]?.boolValue == true && phase == "Pending" ? " <span class=\"badge approval\">needs approval</span>" : ""
        let created = Format.date(session["createdAt"]?.stringValue)
        return """
        <tr id="session-\(id)" data-phase="\(phase)"><th scope="row"><a href="/namespaces/\(HTML.component(namespace))/sessions/\(HTML.component(id))">\(id)</a>
        <div class="description">\(Format.clip(session["description"]?.stringValue ?? "", 140))</div></th>
        <td>\(Layout.badge(phase))\(approval)</td>
        <td>\(Format.trigger(source: session["source"]?.stringValue, event: session["event"]?.stringValue, url: session["url"]?.stringValue))</td>
        <td>\(session["createdBy"]?.stringValue ?? "—")</td>
        <td>\(Format.time(created, now: now))</td>
        <td>\(Format.duration(from: Format.date(session["startedAt"]?.stringValue), to: Format.date(session["completedAt"]?.stringValue), now: now))</td>
        <td class="num">\(session["cost"]?.stringValue ?? "—")</td></tr>
        """
    }
}

/// Dates, durations, costs and triggers as the pages show them.
enum Format {
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    static func rfc3339(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// "3m ago" in a <time> element whose datetime is exact.
    static func time(_ date: Date?, now: Date) -> HTML {
        guard let date else { return "—" }
        return "<time datetime=\"\(rfc3339(date))\" title=\"\(rfc3339(date))\">\(span(now.timeIntervalSince(date))) ago</time>"
    }

    static func duration(from start: Date?, to end: Date?, now: Date) -> HTML {
        guard let start else { return "—" }
        let seconds = (end ?? now).timeIntervalSince(start)
        return end == nil ? "\(span(seconds)) so far" : "\(span(seconds))"
    }

    static func span(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86_400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86_400)d \(s % 86_400 / 3600)h"
    }

    static func clip(_ text: String, _ count: Int) -> String { text.count <= count ? text : String(text.prefix(count)) + "…" }

    /// The source and event, linked to the issue, pull request, Jira issue or Slack thread when the payload names one.
    static func trigger(source: String?, event: String?, url: String?) -> HTML {
        let label: HTML = "<span class=\"source source-\(source ?? "")\">\(source ?? "unknown")</span> \(event ?? "")"
        guard let href = HTML.externalURL(url) else { return label }
        return "<a href=\"\(href)\" rel=\"noopener noreferrer\">\(label)</a>"
    }

    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1 << 20 { return String(format: "%.1f KiB", Double(count) / 1024) }
        return String(format: "%.1f MiB", Double(count) / Double(1 << 20))
    }
}
