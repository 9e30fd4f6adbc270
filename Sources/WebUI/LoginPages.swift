import Foundation
import HTTPServer
import Model
import Support

/// Logging in with a pasted token (the embedded target, service accounts) and out; the OIDC flow is in
/// OIDCLogin. The token is checked by the API's own whoami before it is kept, sealed in the cookie.
extension WebUI {
    func home(_ context: Context) -> Response {
        guard let (_, state) = requireLogin(context) else { return redirect("/login") }
        if let namespace = state.namespace, Self.validNamespace(namespace) { return redirect("/namespaces/\(namespace)/sessions") }
        return redirect("/namespaces")
    }

    /// The login page; it starts an anonymous cookie whose CSRF token the form posts back (no login CSRF).
    func loginPage(_ context: Context, error: String? = nil, status: Int = 200) -> Response {
        let state = context.state.flatMap { $0.token == nil ? $0 : nil } ?? SessionState(expires: Date().addingTimeInterval(3600))
        var inner = context
        inner.state = state
        var notice: HTML = ""
        if let error { notice = "<p class=\"error\" role=\"alert\" id=\"token-error\">\(error)</p>" }
        else if context.request.query["expired"] == "1" { notice = "<p class=\"notice\" role=\"status\">Your login has expired or was refused; log in again.</p>" }
        else if context.request.query["out"] == "1" { notice = "<p class=\"notice\" role=\"status\">You are logged out.</p>" }
        let oidc: HTML = options.oidc == nil ? "" : """
        <section aria-labelledby="sso"><h2 id="sso">Single sign-on</h2>
        <p><a class="button" href="/login/oidc">Log in with \(options.oidc?.displayName ?? "")</a></p></section>
        """
        let body: HTML = """
        <h1>Log in</h1>
        \(notice)
        \(oidc)
        <section aria-labelledby="with-token"><h2 id="with-token">With a token</h2>
        <p>Paste a bearer token the Sessions API accepts: from <code>tenantry cluster token --user … --group …</code> on the embedded
        target, or <code>kubectl create token</code> for a service account. It is kept only in an encrypted, HttpOnly cookie.</p>
        <form method="post" action="/login" class="stack">
        \(Layout.csrfField(inner))
        <label for="token">Token</label>
        <textarea id="token" name="token" rows="4" required autocomplete="off" spellcheck="false"\(error == nil ? "" : " aria-describedby=\"token-error\" aria-invalid=\"true\"" as HTML)></textarea>
        <button type="submit">Log in</button>
        </form></section>
        """
        return page(Layout.document(title: "Log in", context: inner, body: body), status: status, setting: state)
    }

    func tokenLogin(_ context: Context) -> Response {
        let form = Form(context.request.body).first
        guard csrfValid(context, form) else {
            return loginPage(Context(request: context.request, state: nil, traceID: context.traceID), error: "The form had expired; try again.", status: 403)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let withoutScheme = token.lowercased().hasPrefix("bearer ") ? String(token.dropFirst(7)).trimmingCharacters(in: .whitespaces) : token
        guard !withoutScheme.isEmpty else { return loginPage(context, error: "Paste a token first.", status: 400) }
        return logIn(context, token: withoutScheme, failure: { message in loginPage(context, error: message, status: 401) })
    }

    /// Keeps a token the API's whoami accepts: a fresh cookie (new CSRF token, so one seen before login is useless).
    /// With `nonce` (OIDC), the verified ID token must carry it: a token replayed from another login does not.
    func logIn(_ context: Context, token: String, returnTo: String = "/", nonce: String? = nil, failure: (String) -> Response) -> Response {
        let answer = api.call("GET", "/api/v1/whoami", token: token, traceID: context.traceID)
        guard answer.status == 200 else {
            return failure(answer.status == 401 ? "The Sessions API did not accept this token: \(answer.message)" : answer.message)
        }
        if let nonce, OIDCLogin.nonce(of: token).map({ Crypto.constantTimeEquals(Array($0.utf8), Array(nonce.utf8)) }) != true {
            return failure("The ID token does not carry this login's nonce; start again.")
        }
        let state = SessionState(token: token, namespace: context.state?.namespace, expires: Date().addingTimeInterval(options.sessionLifetime))
        guard cookie.seal(state).utf8.count <= SessionCookie.maxValueBytes else {
            return failure("This token is too long to keep in a cookie (\(token.utf8.count) bytes); use a shorter one.")
        }
        return redirect(returnTo.hasPrefix("/") && !returnTo.hasPrefix("//") ? returnTo : "/", setting: state)
    }

    func logout(_ context: Context) -> Response {
        guard csrfValid(context, Form(context.request.body).first) else {
            return errorPage(context, status: 403, title: "Forbidden", message: "The logout form had expired; reload the page and try again.")
        }
        return redirect("/login?out=1", clearing: true)
    }
}
