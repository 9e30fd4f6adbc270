import Access
import Foundation
import HTTPClient
import Model
import Support
import WebUI
import XCTest

/// The OIDC authorization-code flow with PKCE against a provider served over HTTPS by the test: the redirect,
/// the callback, the code exchanged with the verifier, the ID token verified by the API (Access's OIDCIssuer)
/// and its nonce checked; then the pages show what that person may see.
final class WebUIOIDCTests: XCTestCase {
    var provider: TestProvider!
    var fixture: UIFixture!

    override func setUpWithError() throws {
        provider = try TestProvider()
        let issuer = OIDCIssuerConfiguration(url: provider.url, audiences: ["tenantry-ui"], certificateAuthority: provider.caFile,
                                             username: ClaimMapping(claim: "email", prefix: ""), groups: ClaimMapping(claim: "groups", prefix: ""))
        fixture = try UIFixture(oidc: (issuer, OIDCLogin.Configuration(issuer: provider.url, clientID: "tenantry-ui", redirectURI: "http://127.0.0.1/login/callback",
                                                                        certificateAuthority: provider.caFile)))
    }

    override func tearDown() {
        fixture.stop()
        fixture = nil
        provider = nil
    }

    /// /login/oidc: the redirect to the provider and the cookie that remembers the login in progress.
    private func start() throws -> (cookie: String, query: [String: String]) {
        let login = try fixture.send("GET", "/login")
        XCTAssertTrue(login.text.contains("href=\"/login/oidc\""))
        let redirect = try fixture.send("GET", "/login/oidc", cookie: UIFixture.cookie(login))
        XCTAssertEqual(redirect.status, 303, redirect.text)
        let location = try XCTUnwrap(redirect.headers["location"])
        XCTAssertTrue(location.hasPrefix(provider.url + "/authorize?"), location)
        let query = Dictionary(uniqueKeysWithValues: try XCTUnwrap(URLComponents(string: location)?.queryItems).map { ($0.name, $0.value ?? "") })
        return (try XCTUnwrap(UIFixture.cookie(redirect)), query)
    }

    func testAnOIDCLoginWithPKCEEndsWithTheAPIVerifiedIDTokenInTheCookie() throws {
        let (cookie, query) = try start()
        XCTAssertEqual(query["response_type"], "code")
        XCTAssertEqual(query["client_id"], "tenantry-ui")
        XCTAssertEqual(query["redirect_uri"], "http://127.0.0.1/login/callback")
        XCTAssertEqual(query["code_challenge_method"], "S256")
        XCTAssertEqual(query["scope"]?.split(separator: " ").first, "openid")
        let state = try XCTUnwrap(query["state"]), nonce = try XCTUnwrap(query["nonce"]), challenge = try XCTUnwrap(query["code_challenge"])
        XCTAssertEqual(Base64URL.decode(challenge)?.count, 32, "a SHA-256 challenge, not the verifier")
        XCTAssertFalse(cookie.contains(state) || cookie.contains(nonce), "the cookie is sealed")

        // The browser comes back with the code; the UI trades it with the verifier and keeps the verified token.
        let code = provider.authorize(challenge: challenge, nonce: nonce, email: "sam@acme.example", groups: ["payments-engineers"])
        let back = try fixture.send("GET", "/login/callback?code=\(code)&state=\(state)", cookie: cookie)
        XCTAssertEqual(back.status, 303, back.text)
        XCTAssertEqual(back.headers["location"], "/")
        let exchange = try XCTUnwrap(provider.tokenRequests.last)
        XCTAssertEqual(exchange["client_id"], "tenantry-ui")
        XCTAssertEqual(Base64URL.encode(Crypto.sha256(Array((exchange["code_verifier"] ?? "").utf8))), challenge)
        let session = try XCTUnwrap(UIFixture.cookie(back))
        let page = try fixture.send("GET", "/namespaces", cookie: session)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("/namespaces/payments-prod/sessions") && !page.text.contains("docs-prod"), page.text)

        // The same callback again: the provider refuses a used code (and the cookie no longer holds the login).
        XCTAssertEqual(try fixture.send("GET", "/login/callback?code=\(code)&state=\(state)", cookie: cookie).status, 502)
    }

    func testAForeignStateAnotherNonceAWrongAudienceOrTheProvidersRefusalIsNoLogin() throws {
        var (cookie, query) = try start()
        let code = provider.authorize(challenge: query["code_challenge"]!, nonce: query["nonce"]!, email: "sam@acme.example", groups: ["payments-engineers"])
        let foreign = try fixture.send("GET", "/login/callback?code=\(code)&state=not-this-browsers", cookie: cookie)
        XCTAssertEqual(foreign.status, 400)
        if let anonymous = UIFixture.cookie(foreign) {
            XCTAssertEqual(try fixture.send("GET", "/namespaces", cookie: anonymous).status, 303, "the cookie it sets is no login")
        }
        XCTAssertEqual(try fixture.send("GET", "/login/callback?code=\(code)&state=\(query["state"]!)").status, 400, "no cookie: not started here")

        (cookie, query) = try start()
        let replayed = provider.authorize(challenge: query["code_challenge"]!, nonce: "another-login", email: "sam@acme.example", groups: ["payments-engineers"])
        let wrongNonce = try fixture.send("GET", "/login/callback?code=\(replayed)&state=\(query["state"]!)", cookie: cookie)
        XCTAssertEqual(wrongNonce.status, 401)
        XCTAssertTrue(wrongNonce.text.contains("nonce"), wrongNonce.text)

        (cookie, query) = try start()
        let otherAudience = provider.authorize(challenge: query["code_challenge"]!, nonce: query["nonce"]!, email: "sam@acme.example", groups: [],
                                               override: ["aud": "someone-else"])
        let refused = try fixture.send("GET", "/login/callback?code=\(otherAudience)&state=\(query["state"]!)", cookie: cookie)
        XCTAssertEqual(refused.status, 401, "the API's OIDC verification refuses it")
        XCTAssertTrue(refused.text.contains("did not accept"), refused.text)

        (cookie, query) = try start()
        let wrongChallenge = provider.authorize(challenge: Base64URL.encode(Crypto.sha256(Array("not the verifier".utf8))), nonce: query["nonce"]!,
                                                email: "sam@acme.example", groups: [])
        let pkce = try fixture.send("GET", "/login/callback?code=\(wrongChallenge)&state=\(query["state"]!)", cookie: cookie)
        XCTAssertEqual(pkce.status, 502)
        XCTAssertTrue(pkce.text.contains("PKCE verification failed"), pkce.text)

        (cookie, query) = try start()
        let denied = try fixture.send("GET", "/login/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=\(query["state"]!)", cookie: cookie)
        XCTAssertEqual(denied.status, 401)
        XCTAssertTrue(denied.text.contains("&lt;b&gt;no&lt;/b&gt;"), "the provider's words, escaped")
    }
}
