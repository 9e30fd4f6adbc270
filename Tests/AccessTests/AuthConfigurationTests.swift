import Access
import Foundation
import Model
import Support
import XCTest

/// The `auth:` section of tenantry.yaml, read through the one tenantry.yaml reader.
final class AuthConfigurationTests: XCTestCase {
    private func load(_ yaml: String) throws -> AuthConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try AuthConfiguration.load(file: file.path)
    }

    func testIssuersClaimMappingsAndCachesAreRead() throws {
        let configuration = try load("""
            source: {url: https://github.com/acme/tenants.git}
            auth:
              issuers:
                - url: https://login.acme.example
                  audiences: [tenantry]
                  algorithms: [ES256]
                  claimMappings:
                    username: {claim: email}
                    groups: {claim: groups, prefix: "oidc:"}
                  clockSkew: 30s
              kubernetes:
                audiences: [tenantry, https://kubernetes.default.svc.cluster.local]
                cache: {authenticated: 1m, unauthenticated: 5s, size: 50}
              authorization:
                cache: {allowed: 20s, denied: 5s}
            """)
        XCTAssertEqual(configuration.issuers, [OIDCIssuerConfiguration(url: "https://login.acme.example", audiences: ["tenantry"], algorithms: [.es256],
                                                                       username: ClaimMapping(claim: "email", prefix: ""),
                                                                       groups: ClaimMapping(claim: "groups", prefix: "oidc:"), leeway: 30)])
        XCTAssertEqual(configuration.kubernetes, KubernetesTokenConfiguration(audiences: ["tenantry", "https://kubernetes.default.svc.cluster.local"],
                                                                              authenticatedTTL: 60, unauthenticatedTTL: 5, cacheSize: 50))
        XCTAssertEqual(configuration.authorization, AuthorizationCacheConfiguration(allowedTTL: 20, deniedTTL: 5, size: 100_000))
    }

    func testNoAuthSectionMeansKubernetesTokensOnlyAndDisablingThemIsExplicit() throws {
        let defaults = try load("status: {path: status}\n")
        XCTAssertEqual(defaults.issuers, [])
        XCTAssertEqual(defaults.kubernetes, KubernetesTokenConfiguration())
        XCTAssertNil(try load("auth: {kubernetes: {enabled: false}}\n").kubernetes)
    }

    func testMistakesNameTheField() {
        func message(_ yaml: String) -> String {
            do { _ = try load(yaml); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("auth: {issuers: [{url: http://login.acme.example, audiences: [t]}]}").contains("auth.issuers[0].url: an issuer is an https:// URL"))
        XCTAssertTrue(message("auth: {issuers: [{url: https://login.acme.example}]}").contains("auth.issuers[0].audiences"))
        XCTAssertTrue(message("auth: {issuers: [{url: https://l.example, audiences: [t], algorithms: [HS256]}]}").contains("\"HS256\" is not supported"))
        XCTAssertTrue(message("auth: {issuer: []}").contains("auth.issuer: unknown field \"issuer\"; known: issuers, kubernetes, authorization (did you mean \"issuers\"?)"))
        XCTAssertTrue(message("auth: {authorization: {cache: {allowed: soon}}}").contains("auth.authorization.cache.allowed: \"soon\" is not a duration"))
        XCTAssertTrue(message("auth: {issuers: [{url: https://a.example, audiences: [t]}, {url: https://a.example, audiences: [u]}]}").contains("listed twice"))
    }
}
