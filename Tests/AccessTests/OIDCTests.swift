import Access
import Foundation
import Model
import Support
import XCTest

/// OIDC ID tokens verified against a test issuer whose discovery and JWKS are served over HTTPS.
final class OIDCTests: XCTestCase {
    var issuer: TestIssuer!
    var rsa: JWTSigningKey!
    var ec: JWTSigningKey!

    override func setUpWithError() throws {
        issuer = try TestIssuer()
        rsa = try JWTSigningKey.generate(.rs256)
        ec = try JWTSigningKey.generate(.es256)
        issuer.publish([rsa, ec])
    }

    override func tearDown() { issuer = nil }

    private func verifier(_ configuration: OIDCIssuerConfiguration? = nil) -> OIDCIssuer {
        OIDCIssuer(configuration ?? issuer.configuration())
    }

    private func refusal(_ token: String, by verifier: OIDCIssuer? = nil, now: Date = Date(), file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let caller = try (verifier ?? self.verifier()).authenticate(token, now: now)
            XCTFail("accepted as \(caller.user)", file: file, line: line)
            return ""
        } catch {
            XCTAssertEqual(error.code, .invalidToken, file: file, line: line)
            XCTAssertFalse(error.message.contains(token), "the message holds the token", file: file, line: line)
            return error.message
        }
    }

    func testValidRS256AndES256TokensNameTheUserAndMapPrefixedGroups() throws {
        let oidc = verifier()
        for key in [rsa!, ec!] {
            let caller = try oidc.authenticate(try JWT.sign(issuer.claims(groups: ["payments-engineers", "everyone"]), with: key))
            XCTAssertEqual(caller.user, "ada@acme.example")
            XCTAssertEqual(caller.uid, "u-123")
            XCTAssertEqual(caller.groups, ["oidc:payments-engineers", "oidc:everyone", "system:authenticated"])
            XCTAssertEqual(caller.method, .oidc(issuer: issuer.url))
        }
        XCTAssertEqual(issuer.jwksFetches, 1, "the key set is fetched once and cached")
        // An audience list containing ours is accepted too.
        XCTAssertNoThrow(try oidc.authenticate(try JWT.sign(issuer.claims(audience: ["other", "tenantry"]), with: rsa)))
    }

    func testExpiredNotYetValidAndFutureIssuedTokensAreRefused() throws {
        let now = Date()
        var expired = issuer.claims(now: now.addingTimeInterval(-7200))
        expired["exp"] = .int(Int(now.timeIntervalSince1970) - 120)
        XCTAssertTrue(refusal(try JWT.sign(expired, with: rsa)).contains("expired"))
        // Within the clock skew (30 s) an expiry just passed is still accepted.
        var justExpired = issuer.claims(now: now.addingTimeInterval(-3600))
        justExpired["exp"] = .int(Int(now.timeIntervalSince1970) - 10)
        XCTAssertNoThrow(try verifier().authenticate(try JWT.sign(justExpired, with: rsa), now: now))

        var early = issuer.claims(now: now)
        early["nbf"] = .int(Int(now.timeIntervalSince1970) + 600)
        XCTAssertTrue(refusal(try JWT.sign(early, with: rsa)).contains("not valid before"))

        var future = issuer.claims(now: now)
        future["iat"] = .int(Int(now.timeIntervalSince1970) + 600)
        XCTAssertTrue(refusal(try JWT.sign(future, with: rsa)).contains("issued in the future"))
    }

    func testWrongIssuerAndWrongAudienceAreRefused() throws {
        var claims = issuer.claims()
        claims["iss"] = "https://evil.example"
        XCTAssertTrue(refusal(try JWT.sign(claims, with: rsa)).contains("iss is not \(issuer.url)"))
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(audience: "kubernetes"), with: rsa)).contains("do not include tenantry"))
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(audience: ["a", "b"]), with: rsa)).contains("do not include tenantry"))
    }

    func testAlgNoneHS256WithThePublicKeyAndUnconfiguredAlgorithmsAreRefused() throws {
        let none = ForgedJWT.make(header: ["alg": "none", "typ": "JWT"], claims: issuer.claims(), signature: [])
        XCTAssertTrue(refusal(none).contains("\"none\" is not accepted"))
        let confused = ForgedJWT.hs256(claims: issuer.claims(), secret: rsa.publicKey.publicKeyPEM, kid: rsa.keyID)
        XCTAssertTrue(refusal(confused).contains("\"HS256\" is not accepted"))
        // An issuer configured for RS256 only refuses a (validly signed) ES256 token.
        let rsOnly = verifier(issuer.configuration(algorithms: [.rs256]))
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(), with: ec), by: rsOnly).contains("only RS256"))
        // A signature by a key the issuer never published.
        let stranger = try JWTSigningKey.generate(.rs256)
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(), with: stranger)).contains("signature does not verify"))
    }

    func testAnUnknownKidRefetchesTheRotatedKeySetAtMostOncePerInterval() throws {
        let oidc = verifier()
        let start = Date()
        XCTAssertNoThrow(try oidc.authenticate(try JWT.sign(issuer.claims(now: start), with: rsa), now: start))
        XCTAssertEqual(issuer.jwksFetches, 1)

        let rotated = try JWTSigningKey.generate(.rs256)
        issuer.publish([rotated])
        // Within the refetch interval an unknown kid does not reach the provider: refused, no fetch.
        let soon = start.addingTimeInterval(2)
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(now: soon), with: rotated), by: oidc, now: soon).contains("signature does not verify"))
        XCTAssertEqual(issuer.jwksFetches, 1, "rate-limited")

        let later = start.addingTimeInterval(oidc.refetchInterval + 1)
        let caller = try oidc.authenticate(try JWT.sign(issuer.claims(now: later), with: rotated), now: later)
        XCTAssertEqual(caller.user, "ada@acme.example")
        XCTAssertEqual(issuer.jwksFetches, 2, "the unknown kid fetched the rotated set")
        // The old key is gone from the set: its tokens no longer verify.
        XCTAssertTrue(refusal(try JWT.sign(issuer.claims(now: later), with: rsa), by: oidc, now: later).contains("signature does not verify"))
        XCTAssertEqual(issuer.jwksFetches, 2, "a kid just refetched is not fetched again within the interval")
    }

    func testAnUnverifiedEmailAndAMissingUsernameClaimAreRefused() throws {
        var unverified = issuer.claims()
        unverified["email_verified"] = false
        XCTAssertTrue(refusal(try JWT.sign(unverified, with: rsa)).contains("email is not verified"))
        var anonymous = issuer.claims()
        anonymous["email"] = nil
        XCTAssertTrue(refusal(try JWT.sign(anonymous, with: rsa)).contains("no string email claim"))
        var badGroups = issuer.claims()
        badGroups["groups"] = [1, 2]
        XCTAssertTrue(refusal(try JWT.sign(badGroups, with: rsa)).contains("other than strings"))
    }

    func testAnIssuerThatDoesNotTrustTheCertificateCannotFetchKeys() throws {
        var configuration = issuer.configuration()
        configuration.certificateAuthority = nil
        let message = refusal(try JWT.sign(issuer.claims(), with: rsa), by: OIDCIssuer(configuration))
        XCTAssertTrue(message.contains("cannot fetch the OIDC discovery"), message)
    }

    /// The Authorization header routes a JWT from a configured issuer to that issuer only.
    func testTheAuthenticatorRoutesByIssuerAndExplainsMissingOrForeignCredentials() throws {
        let authenticator = Authenticator(issuers: [verifier()], tokenReviewer: nil)
        let token = try JWT.sign(issuer.claims(), with: ec)
        XCTAssertEqual(try authenticator.authenticate(authorization: "Bearer \(token)").user, "ada@acme.example")
        XCTAssertEqual(try authenticator.authenticate(authorization: "bearer \(token)").user, "ada@acme.example")
        func failure(_ header: String?) -> AuthenticationError? {
            do { _ = try authenticator.authenticate(authorization: header); return nil } catch { return error }
        }
        XCTAssertEqual(failure(nil)?.code, .unauthenticated)
        XCTAssertEqual(failure(nil)?.challenge, "Bearer realm=\"tenantry\"")
        XCTAssertEqual(failure("Basic YWRhOnB3")?.code, .invalidToken)
        XCTAssertEqual(failure("Bearer a b")?.challenge, "Bearer realm=\"tenantry\", error=\"invalid_token\"")
        var other = issuer.claims()
        other["iss"] = "https://elsewhere.example"
        XCTAssertTrue(failure("Bearer " + (try JWT.sign(other, with: ec)))?.message.contains("Kubernetes tokens are not accepted") ?? false)
    }
}
