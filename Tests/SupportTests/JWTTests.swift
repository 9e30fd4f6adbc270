import Foundation
import Model
import Support
import XCTest

final class JWTTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private var claims: JSONObject { ["iss": "https://issuer.test", "sub": "alice", "aud": ["api"], "iat": 1_800_000_000, "exp": 1_800_000_600] }

    func testBothAlgorithmsSignAndVerifyAndTheHeaderNamesTheKey() throws {
        for algorithm in JWTAlgorithm.allCases {
            let key = try JWTSigningKey.generate(algorithm)
            XCTAssertEqual(key.algorithm, algorithm)
            let token = try JWT.sign(claims, with: key)
            let verified = try JWT.verify(token, keys: [key.publicKey], now: now)
            XCTAssertEqual(verified.claims["sub"], "alice")
            XCTAssertEqual(verified.audiences, ["api"])
            XCTAssertEqual(verified.header["alg"]?.stringValue, algorithm.rawValue)
            XCTAssertEqual(verified.header["kid"]?.stringValue, key.keyID)
            XCTAssertEqual(verified.expiration, Date(timeIntervalSince1970: 1_800_000_600))
            // The key survives a PEM round trip with the same key id.
            let reread = try JWTSigningKey(pem: key.privateKeyPEM)
            XCTAssertEqual(reread.keyID, key.keyID)
            XCTAssertNoThrow(try JWT.verify(JWT.sign(claims, with: reread), keys: [JWTVerificationKey(pem: key.publicKey.publicKeyPEM)], now: now))
        }
    }

    func testAnES256SignatureIsTheSixtyFourByteJWSForm() throws {
        let token = try JWT.sign(claims, with: JWTSigningKey.generate(.es256))
        XCTAssertEqual(Base64URL.decode(token.split(separator: ".")[2])?.count, 64)
    }

    func testATamperedTokenOrAnotherKeysTokenIsRefused() throws {
        let key = try JWTSigningKey.generate(.es256)
        let token = try JWT.sign(claims, with: key)
        var parts = token.split(separator: ".").map(String.init)
        var forged = claims
        forged["sub"] = "system:admin"
        parts[1] = Base64URL.encode(JSON.object(forged).compactBytes)
        XCTAssertThrowsError(try JWT.verify(parts.joined(separator: "."), keys: [key.publicKey], now: now)) { XCTAssertEqual($0 as? JWTError, .badSignature) }
        let other = try JWTSigningKey.generate(.es256)
        XCTAssertThrowsError(try JWT.verify(token, keys: [other.publicKey], now: now)) { XCTAssertEqual($0 as? JWTError, .badSignature) }
    }

    func testAlgNoneHMACAndAlgorithmConfusionAreRefused() throws {
        let rsa = try JWTSigningKey.generate(.rs256)
        let body = Base64URL.encode(JSON.object(claims).compactBytes)
        func header(_ alg: String) -> String { Base64URL.encode(JSON.object(["alg": .string(alg), "typ": "JWT"]).compactBytes) }
        // alg none with an empty signature.
        XCTAssertThrowsError(try JWT.verify(header("none") + "." + body + ".", keys: [rsa.publicKey], now: now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("none"))
        }
        // HS256 keyed with the RSA public key's PEM: the classic confusion attack.
        let input = header("HS256") + "." + body
        let mac = Crypto.hmacSHA256(key: Array(rsa.publicKey.publicKeyPEM.utf8), message: Array(input.utf8))
        XCTAssertThrowsError(try JWT.verify(input + "." + Base64URL.encode(mac), keys: [rsa.publicKey], now: now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("HS256"))
        }
        // An RS256 token presented as ES256 finds no key: the key's type fixes the algorithm.
        let token = try JWT.sign(claims, with: rsa).split(separator: ".")
        XCTAssertThrowsError(try JWT.verify(header("ES256") + "." + token[1] + "." + token[2], keys: [rsa.publicKey], now: now)) {
            XCTAssertEqual($0 as? JWTError, .noMatchingKey(algorithm: "ES256"))
        }
    }

    func testTimeClaimsAreEnforcedWithLeeway() throws {
        let key = try JWTSigningKey.generate(.es256)
        let token = try JWT.sign(claims, with: key)
        XCTAssertThrowsError(try JWT.verify(token, keys: [key.publicKey], now: now.addingTimeInterval(600))) {
            guard case .expired = $0 as? JWTError else { return XCTFail("\($0)") }
        }
        XCTAssertNoThrow(try JWT.verify(token, keys: [key.publicKey], now: now.addingTimeInterval(630), leeway: 60))
        var early = claims
        early["nbf"] = 1_800_000_300
        XCTAssertThrowsError(try JWT.verify(JWT.sign(early, with: key), keys: [key.publicKey], now: now)) {
            guard case .notYetValid = $0 as? JWTError else { return XCTFail("\($0)") }
        }
        var endless = claims
        endless["exp"] = nil
        XCTAssertThrowsError(try JWT.verify(JWT.sign(endless, with: key), keys: [key.publicKey], now: now)) {
            guard case .malformed = $0 as? JWTError else { return XCTFail("\($0)") }
        }
    }

    func testMalformedTokensAreRefusedWithoutCrashing() throws {
        let key = try JWTSigningKey.generate(.es256)
        for token in ["", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.e30", String(repeating: "a", count: JWT.maxLength + 1)] {
            XCTAssertThrowsError(try JWT.verify(token, keys: [key.publicKey], now: now), token.prefix(20).description)
        }
        XCTAssertNil(Base64URL.decode("a+b/"))
        XCTAssertEqual(Base64URL.decode("aGk"), Array("hi".utf8))
    }

    func testAJWKRoundTripsAndVerifiesWithItsKeyID() throws {
        for algorithm in JWTAlgorithm.allCases {
            let key = try JWTSigningKey.generate(algorithm)
            let jwk = key.publicKey.jwk
            XCTAssertEqual(jwk["alg"]?.stringValue, algorithm.rawValue)
            var named = jwk.objectValue!
            named["kid"] = "provider-key-1"
            let imported = try JWTVerificationKey(jwk: .object(named))
            XCTAssertEqual(imported.keyID, "provider-key-1")
            XCTAssertEqual(imported.algorithm, algorithm)
            XCTAssertEqual(imported.publicKeyPEM, key.publicKey.publicKeyPEM, "the same public key")
            XCTAssertNoThrow(try JWT.verify(JWT.sign(claims, with: key), keys: [imported], now: now))
        }
        // A JWK cannot widen what its key verifies.
        var lying = try JWTSigningKey.generate(.es256).publicKey.jwk.objectValue!
        lying["alg"] = "HS256"
        XCTAssertThrowsError(try JWTVerificationKey(jwk: .object(lying)))
        XCTAssertThrowsError(try JWTVerificationKey(jwk: ["kty": "oct", "k": "c2VjcmV0"]))
        XCTAssertThrowsError(try JWTVerificationKey(jwk: ["kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"]))
    }

    func testWeakOrUnsupportedKeysAreRefused() throws {
        XCTAssertThrowsError(try JWTSigningKey(pem: "not a key"))
    }
}
