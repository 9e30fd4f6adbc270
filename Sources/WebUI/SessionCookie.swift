import Foundation
import Model
import HTTPServer
import Support

/// What the browser holds between requests, sealed with AES-256-GCM under the server's key, so it can be neither
/// read (the bearer token is inside) nor changed. One cookie carries everything: the token once logged in, the
/// CSRF token every form posts back, the namespace last chosen, and an OIDC login in progress (state, PKCE
/// verifier, nonce).
struct SessionState: Sendable, Hashable {
    var token: String?
    var csrf: String
    var namespace: String?
    var expires: Date
    var oidc: PendingLogin?

    struct PendingLogin: Sendable, Hashable {
        var state: String
        var verifier: String
        var nonce: String
        var returnTo: String
    }

    var json: JSON {
        var object: JSONObject = ["csrf": .string(csrf), "exp": .int(Int(expires.timeIntervalSince1970))]
        if let token { object["token"] = .string(token) }
        if let namespace { object["ns"] = .string(namespace) }
        if let oidc {
            object["oidc"] = ["state": .string(oidc.state), "verifier": .string(oidc.verifier), "nonce": .string(oidc.nonce), "return": .string(oidc.returnTo)]
        }
        return .object(object)
    }

    init(token: String? = nil, csrf: String = SessionState.newSecret(), namespace: String? = nil, expires: Date, oidc: PendingLogin? = nil) {
        self.token = token
        self.csrf = csrf
        self.namespace = namespace
        self.expires = expires
        self.oidc = oidc
    }

    init?(json: JSON) {
        guard let csrf = json["csrf"]?.stringValue, let exp = json["exp"]?.intValue else { return nil }
        self.csrf = csrf
        expires = Date(timeIntervalSince1970: TimeInterval(exp))
        token = json["token"]?.stringValue
        namespace = json["ns"]?.stringValue
        if let pending = json["oidc"], let state = pending["state"]?.stringValue, let verifier = pending["verifier"]?.stringValue,
           let nonce = pending["nonce"]?.stringValue, let returnTo = pending["return"]?.stringValue {
            oidc = PendingLogin(state: state, verifier: verifier, nonce: nonce, returnTo: returnTo)
        }
    }

    /// 32 random bytes, base64url: CSRF tokens, OIDC state, nonce and PKCE verifier.
    static func newSecret() -> String { Base64URL.encode(Crypto.randomBytes(32)) }
}

/// Seals and opens the `tenantry_session` cookie.
public struct SessionCookie: Sendable {
    public static let name = "tenantry_session"
    /// Browsers keep cookies of up to 4096 bytes; a token that would not fit is refused at login.
    static let maxValueBytes = 3800
    /// Binds the ciphertext to its purpose, so nothing else sealed under the key passes for a cookie.
    private static let associated = Array("tenantry-ui-session-v1".utf8)

    let key: [UInt8]
    /// Secure when the server is reached over TLS.
    let secure: Bool

    public init(key: [UInt8], secure: Bool) {
        precondition(key.count == Crypto.aeadKeyBytes, "the UI session key must be 32 bytes")
        self.key = key
        self.secure = secure
    }

    func seal(_ state: SessionState) -> String {
        Base64URL.encode(Crypto.sealAES256GCM(state.json.compactBytes, key: key, associated: Self.associated))
    }

    func open(_ value: String, now: Date = Date()) -> SessionState? {
        guard value.utf8.count <= 8192, let sealed = Base64URL.decode(value),
              let plain = Crypto.openAES256GCM(sealed, key: key, associated: Self.associated),
              let json = try? JSON(parsing: Data(plain)), let state = SessionState(json: json), state.expires > now else { return nil }
        return state
    }

    /// The state in the request's Cookie header, if it opens.
    func state(of request: Request) -> SessionState? {
        guard let header = request.headers["cookie"] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(Self.name + "=") { return open(String(pair.dropFirst(Self.name.count + 1))) }
        }
        return nil
    }

    /// The Set-Cookie value that stores the state (HttpOnly, SameSite=Lax, Secure over TLS, Path=/).
    func header(_ state: SessionState) -> String {
        let maxAge = max(0, Int(state.expires.timeIntervalSinceNow))
        return "\(Self.name)=\(seal(state)); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// The Set-Cookie value that removes it (logout, a token the API no longer accepts).
    var clearing: String { "\(Self.name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "") }
}
