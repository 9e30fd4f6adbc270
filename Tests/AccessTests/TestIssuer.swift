import Access
import Foundation
import HTTPServer
import Model
import Support
import Synchronization

/// An OIDC provider for tests: discovery and JWKS served over HTTPS on 127.0.0.1 with a certificate
/// made at test time (its PEM written to `caFile` for the verifier to trust). Keys are generated per
/// test; `publish` replaces the key set (rotation). Counts what it served.
final class TestIssuer: Sendable {
    let url: String
    let caFile: String
    private let server: HTTPServer
    private let state = IssuerState()

    init() throws {
        let identity = try TLSIdentity.selfSigned(commonName: "test-issuer", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], days: 1)
        caFile = FileManager.default.temporaryDirectory.appendingPathComponent("issuer-ca-\(UUID().uuidString).pem").path
        try identity.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        var configuration = HTTPServer.Configuration()
        configuration.tls = identity
        let state = self.state
        server = try HTTPServer(configuration) { request in
            let base = state.url.withLock { $0 }
            switch request.path {
            case "/.well-known/openid-configuration":
                let body: JSON = ["issuer": .string(base), "jwks_uri": .string(base + "/keys"), "id_token_signing_alg_values_supported": ["RS256", "ES256"]]
                return Response(status: 200, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
            case "/keys":
                state.served.withLock { $0 += 1 }
                let body: JSON = ["keys": .array(state.keys.withLock { $0 })]
                return Response(status: 200, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
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

    /// Serves these keys' public halves from now on.
    func publish(_ keys: [JWTSigningKey]) { state.keys.withLock { $0 = keys.map(\.publicKey.jwk) } }

    /// How many times the JWKS was fetched.
    var jwksFetches: Int { state.served.withLock { $0 } }

    func configuration(audiences: [String] = ["tenantry"], algorithms: [JWTAlgorithm] = [.rs256, .es256]) -> OIDCIssuerConfiguration {
        OIDCIssuerConfiguration(url: url, audiences: audiences, algorithms: algorithms, certificateAuthority: caFile,
                                username: ClaimMapping(claim: "email", prefix: ""), groups: ClaimMapping(claim: "groups", prefix: "oidc:"), leeway: 30)
    }

    /// Claims a provider would put in an ID token, valid for an hour from `now`.
    func claims(subject: String = "u-123", email: String = "ada@acme.example", groups: [String] = ["payments-engineers"],
                audience: JSON = "tenantry", now: Date = Date()) -> JSONObject {
        let issued = Int(now.timeIntervalSince1970)
        return ["iss": .string(url), "sub": .string(subject), "aud": audience, "email": .string(email), "email_verified": true,
                "groups": .strings(groups), "iat": .int(issued), "nbf": .int(issued), "exp": .int(issued + 3600)]
    }
}

/// What the server closure and the test share; the URL is known only once the port is bound.
private final class IssuerState: Sendable {
    let keys = Mutex<[JSON]>([])
    let served = Mutex(0)
    let url = Mutex("")
}

/// Tokens no honest signer makes: for the refusal tests.
enum ForgedJWT {
    static func make(header: JSON, claims: JSONObject, signature: [UInt8]) -> String {
        let input = Base64URL.encode(header.compactBytes) + "." + Base64URL.encode(JSON.object(claims).compactBytes)
        return input + "." + Base64URL.encode(signature)
    }

    /// HS256 with the issuer's public key PEM as the HMAC secret (the classic algorithm confusion).
    static func hs256(claims: JSONObject, secret: String, kid: String) -> String {
        let header: JSON = ["alg": "HS256", "kid": .string(kid), "typ": "JWT"]
        let input = Base64URL.encode(header.compactBytes) + "." + Base64URL.encode(JSON.object(claims).compactBytes)
        return input + "." + Base64URL.encode(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array(input.utf8)))
    }
}
