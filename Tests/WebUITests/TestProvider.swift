import Foundation
import HTTPServer
import Model
import Support
import Synchronization

/// An OIDC provider for the UI's login: discovery, JWKS and a token endpoint over HTTPS on 127.0.0.1 (a
/// certificate made at test time, its PEM in `caFile`). `authorize` stands in for the user's consent at the
/// provider: it records the PKCE challenge and nonce of a code; the token endpoint gives the ID token for a code
/// once, and only for the verifier whose S256 hash is the challenge.
final class TestProvider: Sendable {
    let url: String
    let caFile: String
    let key: JWTSigningKey
    private let server: HTTPServer
    private let state = ProviderState()

    struct Grant: Sendable {
        var challenge: String
        var claims: JSONObject
    }

    init() throws {
        key = try JWTSigningKey.generate(.rs256)
        let identity = try TLSIdentity.selfSigned(commonName: "test-provider", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], days: 1)
        caFile = FileManager.default.temporaryDirectory.appendingPathComponent("provider-ca-\(UUID().uuidString).pem").path
        try identity.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        var configuration = HTTPServer.Configuration()
        configuration.tls = identity
        let state = self.state, key = self.key
        server = try HTTPServer(configuration) { request in
            let base = state.url.withLock { $0 }
            func json(_ status: Int, _ body: JSON) -> Response {
                Response(status: status, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
            }
            switch (request.method, request.path) {
            case ("GET", "/.well-known/openid-configuration"):
                return json(200, ["issuer": .string(base), "jwks_uri": .string(base + "/keys"), "authorization_endpoint": .string(base + "/authorize"),
                                  "token_endpoint": .string(base + "/token"), "code_challenge_methods_supported": ["S256"]])
            case ("GET", "/keys"):
                return json(200, ["keys": [key.publicKey.jwk]])
            case ("POST", "/token"):
                let form = Dictionary(String(decoding: request.body, as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
                    let halves = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                    return (halves[0], halves.count > 1 ? halves[1] : "")
                }, uniquingKeysWith: { a, _ in a })
                state.tokenRequests.withLock { $0.append(form) }
                guard form["grant_type"] == "authorization_code", let code = form["code"],
                      let grant = state.grants.withLock({ $0.removeValue(forKey: code) }) else {
                    return json(400, ["error": "invalid_grant", "error_description": "unknown or used code"])
                }
                guard let verifier = form["code_verifier"], Base64URL.encode(Crypto.sha256(Array(verifier.utf8))) == grant.challenge else {
                    return json(400, ["error": "invalid_grant", "error_description": "PKCE verification failed"])
                }
                guard let token = try? JWT.sign(grant.claims, with: key) else { return json(500, ["error": "server_error"]) }
                return json(200, ["access_token": "opaque", "token_type": "Bearer", "id_token": .string(token)])
            default:
                return Response(status: 404)
            }
        }
        url = "https://127.0.0.1:\(server.port)"
        state.url.withLock { $0 = url }
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: caFile)
    }

    /// The user consented: a code for this challenge whose ID token carries `claims` (with `nonce` unless overridden).
    func authorize(challenge: String, nonce: String, email: String, groups: [String], override: JSONObject = [:]) -> String {
        let now = Int(Date().timeIntervalSince1970)
        var claims: JSONObject = ["iss": .string(url), "sub": .string("u-" + email), "aud": "tenantry-ui", "email": .string(email), "email_verified": true,
                                  "groups": .strings(groups), "iat": .int(now), "nbf": .int(now), "exp": .int(now + 3600), "nonce": .string(nonce)]
        for (name, value) in override.pairs { claims[name] = value }
        let code = UUID().uuidString
        state.grants.withLock { $0[code] = Grant(challenge: challenge, claims: claims) }
        return code
    }

    var tokenRequests: [[String: String]] { state.tokenRequests.withLock { $0 } }
}

private final class ProviderState: Sendable {
    let url = Mutex("")
    let grants = Mutex<[String: TestProvider.Grant]>([:])
    let tokenRequests = Mutex<[[String: String]]>([])
}
