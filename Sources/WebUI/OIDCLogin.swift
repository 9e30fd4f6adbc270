import Foundation
import HTTPClient
import HTTPServer
import Model
import Support
import Synchronization

/// The OIDC authorization-code flow with PKCE (RFC 7636, S256) against one configured issuer. The ID token it
/// ends with is verified by the API itself (whoami, through Access's OIDCIssuer: signature, iss, aud, exp), then
/// its nonce is checked against the one this login sent, and it is kept as the session's bearer token.
public final class OIDCLogin: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The issuer URL, exactly as in tenantry.yaml `auth.issuers[].url` (the API must trust it too).
        public var issuer: String
        public var clientID: String
        /// For a confidential client; a public client relies on PKCE alone.
        public var clientSecret: String?
        /// This server's callback as registered with the provider, e.g. https://tenantry.acme.example/login/callback.
        public var redirectURI: String
        public var scopes = ["openid", "email", "profile", "groups"]
        public var certificateAuthority: String?
        public var displayName = "single sign-on"

        public init(issuer: String, clientID: String, clientSecret: String? = nil, redirectURI: String, certificateAuthority: String? = nil) {
            self.issuer = issuer
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
            self.certificateAuthority = certificateAuthority
        }
    }

    struct Endpoints: Sendable, Hashable {
        var authorization: String
        var token: String
    }

    public let configuration: Configuration
    private let http: HTTPClient
    private let endpoints = Mutex<Endpoints?>(nil)

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        http = HTTPClient(tls: TLSOptions(caFile: configuration.certificateAuthority), connectTimeout: 5)
    }

    var displayName: String { configuration.displayName }

    /// The provider's endpoints from its discovery document (fetched once; its issuer must be ours exactly).
    func discover() throws -> Endpoints {
        if let known = endpoints.withLock({ $0 }) { return known }
        let url = configuration.issuer.hasSuffix("/") ? configuration.issuer + ".well-known/openid-configuration" : configuration.issuer + "/.well-known/openid-configuration"
        let response = try http.send(HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], timeout: 10))
        guard response.status == 200, let document = try? JSON(parsing: Data(response.body)) else {
            throw OIDCLoginError("the OIDC discovery document \(url) answered \(response.status); check the issuer URL")
        }
        guard document["issuer"]?.stringValue == configuration.issuer else {
            throw OIDCLoginError("the discovery document of \(configuration.issuer) names another issuer (\(document["issuer"]?.stringValue ?? "none"))")
        }
        guard let authorization = document["authorization_endpoint"]?.stringValue, let token = document["token_endpoint"]?.stringValue,
              token.hasPrefix("https://"), authorization.hasPrefix("https://") else {
            throw OIDCLoginError("the discovery document of \(configuration.issuer) has no https authorization_endpoint and token_endpoint")
        }
        let found = Endpoints(authorization: authorization, token: token)
        endpoints.withLock { $0 = found }
        return found
    }

    /// The provider URL to send the browser to, for a login whose secrets are in `pending`.
    func authorizationURL(_ pending: SessionState.PendingLogin) throws -> String {
        let endpoint = try discover().authorization
        let challenge = Base64URL.encode(Crypto.sha256(Array(pending.verifier.utf8)))
        let query = [("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", configuration.redirectURI),
                     ("scope", configuration.scopes.joined(separator: " ")), ("state", pending.state), ("nonce", pending.nonce),
                     ("code_challenge", challenge), ("code_challenge_method", "S256")]
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query.map { "\($0.0)=\(HTML.component($0.1))" }.joined(separator: "&")
    }

    /// Trades the code (and the PKCE verifier) for tokens at the token endpoint; the ID token.
    func exchange(code: String, verifier: String) throws -> String {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURI),
                      ("client_id", configuration.clientID), ("code_verifier", verifier)]
        if let secret = configuration.clientSecret { fields.append(("client_secret", secret)) }
        let body = fields.map { "\($0.0)=\(HTML.component($0.1))" }.joined(separator: "&")
        let response = try http.send(HTTPRequest(method: "POST", url: try discover().token,
                                                 headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                                 body: Array(body.utf8), timeout: 10))
        let json = try? JSON(parsing: Data(response.body))
        guard response.status == 200, let idToken = json?["id_token"]?.stringValue else {
            let reason = json?["error_description"]?.stringValue ?? json?["error"]?.stringValue ?? "status \(response.status)"
            throw OIDCLoginError("the token endpoint refused the login: \(Format.clip(reason, 200))")
        }
        return idToken
    }

    /// The `nonce` claim of an ID token (read after the API has verified its signature).
    static func nonce(of idToken: String) -> String? {
        let parts = idToken.split(separator: ".")
        guard parts.count == 3, let bytes = Base64URL.decode(parts[1]), let claims = try? JSON(parsing: Data(bytes)) else { return nil }
        return claims["nonce"]?.stringValue
    }
}

public struct OIDCLoginError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension WebUI {
    /// Starts the flow: fresh state, nonce and PKCE verifier in the cookie, the browser sent to the provider.
    func oidcStart(_ context: Context) -> Response {
        guard let oidc = options.oidc else { return errorPage(context, status: 404, title: "Not found", message: "No OIDC issuer is configured for this server.") }
        let pending = SessionState.PendingLogin(state: SessionState.newSecret(), verifier: SessionState.newSecret(), nonce: SessionState.newSecret(), returnTo: "/")
        do {
            let url = try oidc.authorizationURL(pending)
            var state = context.state ?? SessionState(expires: Date().addingTimeInterval(600))
            state.token = nil
            state.oidc = pending
            state.expires = Date().addingTimeInterval(600)
            return redirect(url, setting: state)
        } catch {
            return loginPage(context, error: "Cannot start the login with \(oidc.displayName): \(error)", status: 502)
        }
    }

    /// The provider's redirect back: the state must be this browser's, then the code is exchanged and the ID token kept.
    func oidcCallback(_ context: Context) -> Response {
        guard let oidc = options.oidc else { return errorPage(context, status: 404, title: "Not found", message: "No OIDC issuer is configured for this server.") }
        let query = context.request.query
        let fresh = Context(request: context.request, state: nil, traceID: context.traceID)
        guard let pending = context.state?.oidc, let state = query["state"],
              Crypto.constantTimeEquals(Array(state.utf8), Array(pending.state.utf8)) else {
            return loginPage(fresh, error: "This login did not start in this browser (or it took too long); start again.", status: 400)
        }
        if let error = query["error"] {
            return loginPage(fresh, error: "\(oidc.displayName) refused the login: \(Format.clip(query["error_description"] ?? error, 200))", status: 401)
        }
        guard let code = query["code"], !code.isEmpty else { return loginPage(fresh, error: "The provider sent no authorization code; start again.", status: 400) }
        let idToken: String
        do {
            idToken = try oidc.exchange(code: code, verifier: pending.verifier)
        } catch {
            return loginPage(fresh, error: "\(error)", status: 502)
        }
        var cleared = context
        cleared.state?.oidc = nil
        return logIn(cleared, token: idToken, returnTo: pending.returnTo, nonce: pending.nonce) { message in loginPage(fresh, error: message, status: 401) }
    }
}
