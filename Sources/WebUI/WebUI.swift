import Foundation
import HTTPServer
import Model
import Support

/// The web UI `tenantry serve` answers at `/`: server-rendered pages over the Sessions API, called in process
/// with the user's bearer token from the sealed session cookie, so authentication and authorization are exactly
/// the API's. `handle` is nil for paths that are not the UI's (the API, webhooks, health).
public struct WebUI: Sendable {
    public struct Options: Sendable {
        /// The Sessions API handler (SessionsAPI.handle and whatever serve mounts beside it under /api/v1).
        public var api: @Sendable (Request) -> Response?
        /// 32 bytes that seal the session cookie (`--ui-key-file`, else generated at start).
        public var key: [UInt8]
        /// The server is reached over TLS: cookies are Secure.
        public var secure = false
        /// How long a login lasts (the token's own expiry still applies: the API refuses it after).
        public var sessionLifetime: TimeInterval = 8 * 3600
        /// What the new-session form offers: runner types, and each model's price per session.
        public var catalog: @Sendable () -> Catalog = { Catalog() }
        /// The OIDC issuer people log in with (authorization code + PKCE), if any.
        public var oidc: OIDCLogin?

        public init(api: @escaping @Sendable (Request) -> Response?, key: [UInt8]) {
            self.api = api
            self.key = key
        }
    }

    /// What the platform offers, for the new-session form.
    public struct Catalog: Sendable, Hashable {
        public var frameworks: [String]
        /// Estimated cost of one session per model (a per-session price, or per-1k tokens × the estimated tokens).
        public var estimates: [String: Amount]
        public var currency: String

        public init(frameworks: [String] = [], estimates: [String: Amount] = [:], currency: String = "USD") {
            self.frameworks = frameworks
            self.estimates = estimates
            self.currency = currency
        }
    }

    let options: Options
    let cookie: SessionCookie
    let api: APIClient

    public init(_ options: Options) {
        self.options = options
        cookie = SessionCookie(key: options.key, secure: options.secure)
        api = APIClient(handle: options.api)
    }

    /// A key for the cookie: the file's 32 bytes (raw, or 64 hex digits), else fresh random bytes.
    public static func key(file: String?) throws -> [UInt8] {
        guard let file else { return Crypto.randomBytes(Crypto.aeadKeyBytes) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw UsageError("cannot read the UI session key \(file); write 32 random bytes to it (head -c 32 /dev/urandom > \(file))")
        }
        if data.count == Crypto.aeadKeyBytes { return Array(data) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count == 64, let bytes = hexBytes(text) { return bytes }
        throw UsageError("the UI session key \(file) must hold 32 bytes or 64 hex digits, found \(data.count) bytes")
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    public func handle(_ request: Request) -> Response? {
        let path = request.path
        if path.hasPrefix("/api/") || ["/healthz", "/readyz", "/metrics"].contains(path) { return nil }
        if path.hasPrefix("/assets/") { return Assets.serve(path: path) }
        let context = Context(request: request, state: cookie.state(of: request), traceID: UUID().uuidString.lowercased())
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let get = request.method == "GET" || request.method == "HEAD", post = request.method == "POST"
        if parts.isEmpty, get { return home(context) }
        if parts == ["login"] { if get { return loginPage(context) }; if post { return tokenLogin(context) } }
        if parts == ["login", "oidc"], get { return oidcStart(context) }
        if parts == ["login", "callback"], get { return oidcCallback(context) }
        if parts == ["logout"], post { return logout(context) }
        if parts == ["namespaces"], get { return namespacesPage(context) }
        if parts.count >= 2, parts[0] == "namespaces" {
            let ns = parts[1]
            let rest = Array(parts.dropFirst(2))
            switch rest.count {
            case 0 where get: return redirect("/namespaces/\(HTML.component(ns))/sessions")
            case 1 where rest[0] == "sessions" && get: return sessionsPage(context, namespace: ns)
            case 1 where rest[0] == "sessions" && post: return createSession(context, namespace: ns)
            case 1 where rest[0] == "overview" && get: return overviewPage(context, namespace: ns)
            case 1 where rest[0] == "events" && get: return passThrough(context, "/api/v1/namespaces/\(ns)/events")
            case 2 where rest[0] == "sessions" && rest[1] == "new" && get: return newSessionPage(context, namespace: ns)
            case 2 where rest[0] == "sessions" && get: return sessionPage(context, namespace: ns, id: rest[1])
            case 3 where rest[0] == "sessions" && rest[2] == "log" && get:
                return passThrough(context, "/api/v1/namespaces/\(ns)/sessions/\(rest[1])/logs", query: request.query["follow"] == "true" ? ["follow": "true"] : [:])
            case 3 where rest[0] == "sessions" && post:
                if let action = SteerAction(rawValue: rest[2]) { return steer(context, namespace: ns, id: rest[1], action: action) }
            case 4 where rest[0] == "sessions" && rest[2] == "artifacts" && get:
                if request.query["view"] == "1" { return artifactPage(context, namespace: ns, id: rest[1], name: rest[3]) }
                return download(context, namespace: ns, id: rest[1], name: rest[3])
            default: break
            }
        }
        if get || post { return errorPage(context, status: 404, title: "Not found", message: "There is no page at \(path).") }
        return secured(Response(status: 405, headers: ["Allow": "GET, POST", "Content-Type": "text/plain; charset=utf-8"], body: Data("405 method not allowed\n".utf8)))
    }

    /// One request as the pages see it.
    struct Context {
        var request: Request
        var state: SessionState?
        var traceID: String
        var token: String? { state?.token }
    }

    enum SteerAction: String { case stop, approve, reject, rerun }

    // MARK: - Answers

    /// Every UI answer's headers: no script but our own files, no framing, no sniffing, no referrer leaks.
    static let securityHeaders: [String: String] = [
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    ]

    func secured(_ response: Response) -> Response {
        var response = response
        for (name, value) in Self.securityHeaders { response.headers[name] = value }
        if response.headers["Cache-Control"] == nil { response.headers["Cache-Control"] = "no-store" }
        return response
    }

    func page(_ html: HTML, status: Int = 200, setting state: SessionState? = nil, clearing: Bool = false) -> Response {
        var headers = ["Content-Type": "text/html; charset=utf-8"]
        if let state { headers["Set-Cookie"] = cookie.header(state) }
        if clearing { headers["Set-Cookie"] = cookie.clearing }
        return secured(Response(status: status, headers: headers, body: Data(html.text.utf8)))
    }

    /// 303 See Other: after a form post the browser GETs the target.
    func redirect(_ location: String, setting state: SessionState? = nil, clearing: Bool = false) -> Response {
        var headers = ["Location": location, "Content-Type": "text/plain; charset=utf-8"]
        if let state { headers["Set-Cookie"] = cookie.header(state) }
        if clearing { headers["Set-Cookie"] = cookie.clearing }
        return secured(Response(status: 303, headers: headers, body: Data("see \(location)\n".utf8)))
    }

    func errorPage(_ context: Context, status: Int, title: String, message: String) -> Response {
        page(Layout.document(title: title, context: context, body: """
        <h1>\(title)</h1><p class="error" role="alert">\(message)</p><p><a href="/">Back to the start</a></p>
        """), status: status)
    }

    /// What an API refusal shows: a 401 sends the user to log in again (the cookie is dropped), others a page.
    func refusal(_ context: Context, _ answer: APIClient.Answer) -> Response {
        if answer.status == 401 { return redirect("/login?expired=1", clearing: true) }
        let title = answer.status == 403 ? "Forbidden" : answer.status == 404 ? "Not found" : "The Sessions API answered \(answer.status)"
        return errorPage(context, status: answer.status, title: title, message: answer.message)
    }

    /// Pages that need a login send a browser without one to the login page.
    func requireLogin(_ context: Context) -> (token: String, state: SessionState)? {
        guard let state = context.state, let token = state.token else { return nil }
        return (token, state)
    }

    /// A form post carries the cookie's CSRF token (compared in constant time); a cross-site post has neither.
    func csrfValid(_ context: Context, _ form: [String: String]) -> Bool {
        guard let state = context.state, let sent = form["csrf"] else { return false }
        return Crypto.constantTimeEquals(Array(sent.utf8), Array(state.csrf.utf8))
    }

    static func validNamespace(_ name: String) -> Bool {
        name.count <= 63 && name.range(of: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", options: .regularExpression) != nil
    }

    static func validSessionID(_ name: String) -> Bool {
        name.count <= 253 && name.range(of: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", options: .regularExpression) != nil
    }
}
