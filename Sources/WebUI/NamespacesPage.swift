import Foundation
import HTTPServer
import Model

/// The namespace selector: only what `/user/namespaces` lists for the caller, with the permission they have.
extension WebUI {
    func namespacesPage(_ context: Context) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        if let chosen = context.request.query["ns"], Self.validNamespace(chosen) { return redirect("/namespaces/\(chosen)/sessions") }
        let answer = api.call("GET", "/api/v1/user/namespaces", token: token, traceID: context.traceID)
        guard answer.status == 200 else { return refusal(context, answer) }
        let namespaces = answer.json?["namespaces"]?.arrayValue ?? []
        let rows: [HTML] = namespaces.map { item in
            let name = item["namespace"]?.stringValue ?? ""
            let budget = item["policy"]?["budget"]
            let approver: HTML = item["canApprove"]?.boolValue == true ? "<span class=\"badge approver\">approver</span>" : ""
            return """
            <tr><th scope="row"><a href="/namespaces/\(HTML.component(name))/sessions">\(name)</a></th><td>\(item["tenant"]?.stringValue)</td>
            <td><span class="badge permission-\(item["permission"]?.stringValue ?? "")">\(item["permission"]?.stringValue)</span> \(approver)</td>
            <td class="num">\(budget?["remaining"]?.stringValue) / \(budget?["monthly"]?.stringValue) \(budget?["currency"]?.stringValue)</td></tr>
            """
        }
        let table: HTML = rows.isEmpty
            ? "<p class=\"notice\">You may not see any tenant namespace. Ask a tenant admin to add you to a team in the tenant repository.</p>"
            : """
            <div class="scroll"><table><caption>Namespaces you may see</caption>
            <thead><tr><th scope="col">Namespace</th><th scope="col">Tenant</th><th scope="col">You are</th><th scope="col">Budget left</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return page(Layout.document(title: "Namespaces", context: context, body: "<h1>Namespaces</h1>\(table)"))
    }

    /// The caller's entry for one namespace from `/user/namespaces` (permission, approver, policy), nil when not listed.
    func namespaceEntry(_ context: Context, token: String, namespace: String) -> JSON? {
        let answer = api.call("GET", "/api/v1/user/namespaces", token: token, traceID: context.traceID)
        return answer.json?["namespaces"]?.arrayValue?.first { $0["namespace"]?.stringValue == namespace }
    }
}

/// Levels as `/user/namespaces` names them, to decide which buttons to show (the API decides what happens).
enum Permission {
    static func atLeastEditor(_ entry: JSON?) -> Bool { ["editor", "admin"].contains(entry?["permission"]?.stringValue ?? "") }
    static func canApprove(_ entry: JSON?) -> Bool { entry?["canApprove"]?.boolValue == true }
}
