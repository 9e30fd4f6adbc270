import Foundation
import HTTPServer
import Model

/// The tenant overview of one namespace: this month's budget (spent per day and reserved by live sessions
/// against the monthly limit, as an SVG chart), sessions by phase, recent failures with their reasons, and for
/// approvers the sessions waiting for them. Everything from the API's list, get and user/namespaces.
extension WebUI {
    func overviewPage(_ context: Context, namespace: String) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        guard Self.validNamespace(namespace) else { return errorPage(context, status: 400, title: "Bad namespace", message: "\(namespace) is not a namespace name.") }
        func list(_ query: [String: String]) -> APIClient.Answer {
            api.call("GET", "/api/v1/namespaces/\(namespace)/sessions", query: query, token: token, traceID: context.traceID)
        }
        var counts: [(String, Int)] = []
        for phase in Self.phases {
            let answer = list(["status": phase, "limit": "1"])
            guard answer.status == 200 else { return refusal(context, answer) }
            counts.append((phase, answer.json?["total"]?.intValue ?? 0))
        }
        let entry = namespaceEntry(context, token: token, namespace: namespace)
        let now = Date()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let monthStart = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        let days = calendar.range(of: .day, in: .month, for: now)?.count ?? 30

        // This month's sessions, at most 1,000 (ten pages).
        var month: [JSON] = []
        var offset = 0
        while offset < 1000 {
            let answer = list(["since": Format.rfc3339(monthStart), "limit": "100", "offset": String(offset)])
            guard answer.status == 200 else { break }
            let page = answer.json?["sessions"]?.arrayValue ?? []
            month += page
            guard answer.json?["hasMore"]?.boolValue == true, !page.isEmpty else { break }
            offset += page.count
        }
        let catalog = options.catalog()
        var spentPerDay = [Int64](repeating: 0, count: days)
        var reserved: Int64 = 0
        for session in month {
            let phase = session["phase"]?.stringValue ?? ""
            if Self.finalPhases.contains(phase) {
                guard let cost = session["cost"]?.stringValue.flatMap({ Amount($0) }),
                      let at = Format.date(session["completedAt"]?.stringValue) ?? Format.date(session["createdAt"]?.stringValue) else { continue }
                let day = calendar.component(.day, from: at) - 1
                if (0..<days).contains(day) { spentPerDay[day] += cost.micros }
            } else if let model = session["model"]?.stringValue, let estimate = catalog.estimates[model] {
                reserved += estimate.micros
            }
        }
        let budget = entry?["policy"]?["budget"]
        let monthly = budget?["monthly"]?.stringValue.flatMap({ Amount($0) })?.micros ?? 0
        let currency = budget?["currency"]?.stringValue ?? catalog.currency
        let chart = Self.budgetChart(spentPerDay: spentPerDay, reserved: reserved, monthly: monthly, today: calendar.component(.day, from: now) - 1, currency: currency)

        let phaseItems: [HTML] = counts.map { "<li>\(Layout.badge($0.0)) <strong>\($0.1)</strong></li>" }
        let failed = list(["status": "Failed", "limit": "5"]).json?["sessions"]?.arrayValue ?? []
        let failures: [HTML] = failed.map { session in
            let id = session["id"]?.stringValue ?? ""
            let detail = api.call("GET", "/api/v1/namespaces/\(namespace)/sessions/\(id)", token: token, traceID: context.traceID).json
            let reason = detail?["conditions"]?.arrayValue?.first { $0["status"]?.stringValue == "False" || $0["type"]?.stringValue == "Failed" }
            let why: HTML = reason.map { "\($0["reason"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" } ?? "no reason given"
            return "<li><a href=\"/namespaces/\(namespace)/sessions/\(HTML.component(id))\">\(id)</a> \(Format.time(Format.date(session["completedAt"]?.stringValue), now: now)) — \(why)</li>"
        }
        var approvals: HTML = ""
        if Permission.canApprove(entry) {
            let pending = (list(["status": "Pending", "limit": "100"]).json?["sessions"]?.arrayValue ?? []).filter { $0["approvalRequired"]?.boolValue == true }
            let rows: [HTML] = pending.map { session in
                let id = session["id"]?.stringValue ?? ""
                let base = "/namespaces/\(namespace)/sessions/\(HTML.component(id))"
                return """
                <li><a href="\(base)">\(id)</a> \(Format.clip(session["description"]?.stringValue ?? "", 100)) <span class="hint">by \(session["createdBy"]?.stringValue ?? "?")</span>
                <form method="post" action="\(base)/approve">\(Layout.csrfField(context))<button type="submit">Approve</button></form>
                <form method="post" action="\(base)/reject">\(Layout.csrfField(context))<button type="submit" class="danger">Reject</button></form></li>
                """
            }
            approvals = """
            <section aria-labelledby="approvals"><h2 id="approvals">Waiting for your approval</h2>
            \(rows.isEmpty ? "<p>Nothing waits for approval.</p>" : "<ul class=\"queue\">\(rows)</ul>" as HTML)</section>
            """
        }
        let body: HTML = """
        <h1>Overview of \(namespace)</h1>
        <section aria-labelledby="budget"><h2 id="budget">Budget this month</h2>
        <p>Spent <strong>\(budget?["spent"]?.stringValue ?? "0") \(currency)</strong>, reserved by live sessions <strong>\(Amount(micros: reserved).description) \(currency)</strong>,
        of <strong>\(budget?["monthly"]?.stringValue ?? "?") \(currency)</strong> a month.</p>
        \(chart)</section>
        <section aria-labelledby="phases"><h2 id="phases">Sessions by phase</h2><ul class="phases">\(phaseItems)</ul></section>
        <section aria-labelledby="failures"><h2 id="failures">Recent failures</h2>\(failures.isEmpty ? "<p>No failed sessions.</p>" : "<ul>\(failures)</ul>" as HTML)</section>
        \(approvals)
        """
        return page(Layout.document(title: "Overview of \(namespace)", context: context, namespace: namespace, body: body))
    }

    /// Cumulative spend per day as bars, what live sessions reserve stacked on today, and the monthly limit as a
    /// line: an SVG that scales to the page (a text summary beside it for screen readers).
    static func budgetChart(spentPerDay: [Int64], reserved: Int64, monthly: Int64, today: Int, currency: String) -> HTML {
        let width = 600.0, height = 200.0, left = 40.0, bottom = 20.0
        var cumulative: [Int64] = []
        var total: Int64 = 0
        for (day, spent) in spentPerDay.enumerated() {
            total += spent
            cumulative.append(day <= today ? total : 0)
        }
        let top = Double(max(monthly, (cumulative.max() ?? 0) + reserved, 1)) * 1.1
        let slot = (width - left) / Double(max(spentPerDay.count, 1))
        func y(_ micros: Int64) -> Double { (height - bottom) * (1 - Double(micros) / top) }
        var shapes: [HTML] = []
        for (day, value) in cumulative.enumerated() where day <= today {
            let x = left + Double(day) * slot + 1
            shapes.append("<rect class=\"spent\" x=\"\(fmt(x))\" y=\"\(fmt(y(value)))\" width=\"\(fmt(slot - 2))\" height=\"\(fmt(height - bottom - y(value)))\"><title>day \(day + 1): \(Amount(micros: value).description) \(currency) spent</title></rect>")
            if day == today && reserved > 0 {
                shapes.append("<rect class=\"reserved\" x=\"\(fmt(x))\" y=\"\(fmt(y(value + reserved)))\" width=\"\(fmt(slot - 2))\" height=\"\(fmt(y(value) - y(value + reserved)))\"><title>\(Amount(micros: reserved).description) \(currency) reserved</title></rect>")
            }
        }
        let limit: HTML = monthly > 0 ? "<line class=\"limit\" x1=\"\(fmt(left))\" x2=\"\(fmt(width))\" y1=\"\(fmt(y(monthly)))\" y2=\"\(fmt(y(monthly)))\"></line><text x=\"\(fmt(left + 4))\" y=\"\(fmt(y(monthly) - 4))\">limit \(Amount(micros: monthly).description)</text>" : ""
        let axis: HTML = "<line class=\"axis\" x1=\"\(fmt(left))\" x2=\"\(fmt(width))\" y1=\"\(fmt(height - bottom))\" y2=\"\(fmt(height - bottom))\"></line><text x=\"\(fmt(left))\" y=\"\(fmt(height - 4))\">1</text><text x=\"\(fmt(width - 16))\" y=\"\(fmt(height - 4))\">\(spentPerDay.count)</text>"
        return """
        <figure class="chart"><svg viewBox="0 0 \(fmt(width)) \(fmt(height))" role="img" aria-labelledby="chart-caption" preserveAspectRatio="none">\(shapes)\(limit)\(axis)</svg>
        <figcaption id="chart-caption">Spent so far \(Amount(micros: total).description) \(currency) (cumulative per day), \(Amount(micros: reserved).description) reserved, limit \(Amount(micros: monthly).description) \(currency).</figcaption></figure>
        """
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
