import CTenantry
import Foundation
import Model

/// JSON Web Tokens (RFC 7519) signed with RS256 or ES256 through libcrypto: the local cluster's
/// ServiceAccount and user tokens, and any verifier that checks tokens against public keys (OIDC).
///
/// Verification refuses `alg: none`, every HMAC algorithm and any algorithm other than the one the
/// key's type fixes (an RSA key verifies RS256 only, a P-256 key ES256 only), so a token cannot pick
/// how it is checked (algorithm confusion).
public enum JWT {
    /// Tokens longer than this are refused before any decoding.
    public static let maxLength = 16 * 1024

    /// `header.claims.signature`, the header naming the key's algorithm and key id.
    public static func sign(_ claims: JSONObject, with key: JWTSigningKey) throws(JWTError) -> String {
        let header: JSON = ["alg": .string(key.algorithm.rawValue), "kid": .string(key.keyID), "typ": "JWT"]
        let input = Base64URL.encode(header.compactBytes) + "." + Base64URL.encode(JSON.object(claims).compactBytes)
        let signature = try key.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// Checks the signature against `keys` and the time claims (`exp` required, `nbf` if present),
    /// allowing `leeway` seconds of clock skew. Issuer and audience are the caller's to check.
    public static func verify(_ token: String, keys: [JWTVerificationKey], now: Date = Date(), leeway: TimeInterval = 0) throws(JWTError) -> VerifiedJWT {
        guard token.utf8.count <= maxLength else { throw JWTError.malformed("the token is longer than \(maxLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw JWTError.malformed("a JWT has three dot-separated parts, this one has \(parts.count)") }
        guard let headerBytes = Base64URL.decode(parts[0]), let claimsBytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]) else {
            throw JWTError.malformed("a part is not base64url")
        }
        guard let header = (try? JSON(parsing: Data(headerBytes)))?.objectValue else { throw JWTError.malformed("the header is not a JSON object") }
        guard let claims = (try? JSON(parsing: Data(claimsBytes)))?.objectValue else { throw JWTError.malformed("the claims are not a JSON object") }
        let name = header["alg"]?.stringValue ?? ""
        guard let algorithm = JWTAlgorithm(rawValue: name) else { throw JWTError.unsupportedAlgorithm(name) }
        if header["crit"] != nil { throw JWTError.malformed("critical header parameters are not supported") }
        var candidates = keys.filter { $0.algorithm == algorithm }
        if let kid = header["kid"]?.stringValue, candidates.contains(where: { $0.keyID == kid }) {
            candidates = candidates.filter { $0.keyID == kid }
        }
        guard !candidates.isEmpty else { throw JWTError.noMatchingKey(algorithm: name) }
        let input = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard candidates.contains(where: { $0.verify(signature, of: input) }) else { throw JWTError.badSignature }

        let seconds = now.timeIntervalSince1970
        guard let expiry = claims["exp"].flatMap(numericDate) else { throw JWTError.malformed("the token has no numeric exp claim") }
        guard seconds < expiry + leeway else { throw JWTError.expired(Date(timeIntervalSince1970: expiry)) }
        if let claim = claims["nbf"] {
            guard let notBefore = numericDate(claim) else { throw JWTError.malformed("the nbf claim is not a number") }
            guard seconds + leeway >= notBefore else { throw JWTError.notYetValid(Date(timeIntervalSince1970: notBefore)) }
        }
        return VerifiedJWT(header: header, claims: claims)
    }

    /// NumericDate: seconds since the epoch, integer or not.
    public static func numericDate(_ value: JSON) -> Double? {
        switch value {
        case .int(let seconds): return Double(seconds)
        case .number(let text): return Double(text)
        default: return nil
        }
    }
}

public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rs256 = "RS256"
    case es256 = "ES256"
}

/// A token whose signature and time claims checked out.
public struct VerifiedJWT: Sendable, Hashable {
    public var header: JSONObject
    public var claims: JSONObject

    /// `aud` as a list (a single string is a list of one).
    public var audiences: [String] {
        switch claims["aud"] {
        case .string(let one)?: return [one]
        case .array(let many)?: return many.compactMap(\.stringValue)
        default: return []
        }
    }

    public var expiration: Date? { claims["exp"].flatMap(JWT.numericDate).map(Date.init(timeIntervalSince1970:)) }
}

/// A private key that signs tokens: P-256 for ES256 or RSA (2048 bits or more) for RS256.
/// Unchecked Sendable: the EVP_PKEY is only read after init (OpenSSL keys are safe to share for signing).
public final class JWTSigningKey: @unchecked Sendable {
    private let key: OpaquePointer
    public let algorithm: JWTAlgorithm
    public let privateKeyPEM: String
    /// The matching public key, for verifiers.
    public let publicKey: JWTVerificationKey
    public var keyID: String { publicKey.keyID }

    /// A fresh key: P-256 for ES256, 2048-bit RSA for RS256.
    public static func generate(_ algorithm: JWTAlgorithm) throws(JWTError) -> JWTSigningKey {
        let made = algorithm == .es256 ? ctenantry_ec_p256_key() : ctenantry_rsa_key(2048)
        guard let made else { throw JWTError.openSSL("key generation") }
        defer { EVP_PKEY_free(made) }
        return try JWTSigningKey(pem: try OpenSSLKey.pem("PEM_write_bio_PrivateKey") { PEM_write_bio_PrivateKey($0, made, nil, nil, 0, nil, nil) })
    }

    /// Reads a PEM private key (PKCS#8 or traditional).
    public init(pem: String) throws(JWTError) {
        guard let key = OpenSSLKey.read(pem, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else { throw JWTError.openSSL("PEM_read_bio_PrivateKey") }
        do throws(JWTError) {
            algorithm = try OpenSSLKey.algorithm(of: key)
            let publicPEM = try OpenSSLKey.pem("PEM_write_bio_PUBKEY") { PEM_write_bio_PUBKEY($0, key) }
            publicKey = try JWTVerificationKey(pem: publicPEM)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.key = key
        privateKeyPEM = pem
    }

    deinit { EVP_PKEY_free(key) }

    /// The JWS signature of the input: PKCS#1 v1.5 for RS256, the 64-byte r‖s form for ES256.
    func sign(_ input: [UInt8]) throws(JWTError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw JWTError.openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else { throw JWTError.openSSL("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, input, input.count) == 1 else { throw JWTError.openSSL("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, input.count) == 1 else { throw JWTError.openSSL("EVP_DigestSign") }
        signature.removeSubrange(length...)
        return algorithm == .es256 ? try ECDSASignature.raw(fromDER: signature) : signature
    }
}

/// A public key that verifies tokens; its algorithm follows from its type.
/// Unchecked Sendable: the EVP_PKEY is only read after init.
public final class JWTVerificationKey: @unchecked Sendable {
    private let key: OpaquePointer
    public let algorithm: JWTAlgorithm
    public let publicKeyPEM: String
    /// base64url(SHA-256(DER SubjectPublicKeyInfo)), as Kubernetes names its ServiceAccount signing keys.
    public let keyID: String

    /// Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`). `keyID` names it for the `kid` header
    /// (an OIDC provider's JWK `kid`); without one it is the key's SHA-256.
    public init(pem: String, keyID: String? = nil) throws(JWTError) {
        guard let key = OpenSSLKey.read(pem, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) else { throw JWTError.openSSL("PEM_read_bio_PUBKEY") }
        do throws(JWTError) {
            algorithm = try OpenSSLKey.algorithm(of: key)
            var der: UnsafeMutablePointer<UInt8>?
            let length = i2d_PUBKEY(key, &der)
            guard length > 0, let der else { throw JWTError.openSSL("i2d_PUBKEY") }
            defer { CRYPTO_free(der, #file, #line) }
            self.keyID = keyID ?? Base64URL.encode(Crypto.sha256(UnsafeBufferPointer(start: der, count: Int(length))))
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.key = key
        publicKeyPEM = pem
    }

    /// A public JWK (RFC 7517/7518): `kty: RSA` with `n`, `e`, or `kty: EC`, `crv: P-256` with `x`,
    /// `y`. A stated `alg` must be the one the key's type allows.
    public convenience init(jwk: JSON) throws(JWTError) {
        func bytes(_ name: String) throws(JWTError) -> [UInt8] {
            guard let text = jwk[name]?.stringValue, let value = Base64URL.decode(text), !value.isEmpty else {
                throw JWTError.unsupportedKey("the JWK has no base64url \(name)")
            }
            return value
        }
        guard let builder = OSSL_PARAM_BLD_new() else { throw JWTError.openSSL("OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder keeps the pointers it is given until OSSL_PARAM_BLD_to_param copies them, so
        // names, strings and bytes live in buffers that outlast that call.
        var buffers: [UnsafeMutableRawPointer] = []
        var numbers: [OpaquePointer] = []
        defer {
            buffers.forEach { free($0) }
            numbers.forEach { BN_free($0) }
        }
        func stable(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
            let buffer = malloc(max(bytes.count, 1))!
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            buffers.append(buffer)
            return buffer
        }
        func name(_ text: String) -> UnsafePointer<CChar> { UnsafePointer(stable(Array(text.utf8) + [0]).assumingMemoryBound(to: CChar.self)) }
        let type: String
        let expected: JWTAlgorithm
        switch jwk["kty"]?.stringValue {
        case "RSA":
            (type, expected) = ("RSA", .rs256)
            for field in ["n", "e"] {
                let value = try bytes(field)
                guard let number = BN_bin2bn(value, Int32(value.count), nil) else { throw JWTError.openSSL("BN_bin2bn") }
                numbers.append(number)
                guard OSSL_PARAM_BLD_push_BN(builder, name(field), number) == 1 else { throw JWTError.openSSL("OSSL_PARAM_BLD_push_BN") }
            }
        case "EC":
            guard jwk["crv"]?.stringValue == "P-256" else { throw JWTError.unsupportedKey("EC JWKs must be on the P-256 curve (ES256)") }
            (type, expected) = ("EC", .es256)
            let x = try bytes("x"), y = try bytes("y")
            guard x.count == 32, y.count == 32 else { throw JWTError.unsupportedKey("P-256 coordinates are 32 bytes each") }
            let point = [0x04] + x + y
            guard OSSL_PARAM_BLD_push_utf8_string(builder, name("group"), name("prime256v1"), 0) == 1,
                  OSSL_PARAM_BLD_push_octet_string(builder, name("pub"), stable(point), point.count) == 1 else { throw JWTError.openSSL("OSSL_PARAM_BLD_push") }
        default:
            throw JWTError.unsupportedKey("JWK kty \"\(jwk["kty"]?.stringValue ?? "")\" is not RSA or EC")
        }
        if let alg = jwk["alg"]?.stringValue, alg != expected.rawValue {
            throw JWTError.unsupportedKey("the JWK says alg \(alg), but a \(type) key verifies \(expected.rawValue) only")
        }
        guard let parameters = OSSL_PARAM_BLD_to_param(builder) else { throw JWTError.openSSL("OSSL_PARAM_BLD_to_param") }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw JWTError.openSSL("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        var made: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &made, ctenantry_evp_pkey_public_key(), parameters) == 1, let made else {
            throw JWTError.openSSL("EVP_PKEY_fromdata")
        }
        defer { EVP_PKEY_free(made) }
        let pem = try OpenSSLKey.pem("PEM_write_bio_PUBKEY") { PEM_write_bio_PUBKEY($0, made) }
        try self.init(pem: pem, keyID: jwk["kid"]?.stringValue)
    }

    /// The key as a public JWK, with its `kid`, `alg` and `use: sig` (a JWKS entry).
    public var jwk: JSON {
        func number(_ name: String, width: Int32 = 0) -> String {
            var value: OpaquePointer?
            guard EVP_PKEY_get_bn_param(key, name, &value) == 1, let value else { return "" }
            defer { BN_free(value) }
            let size = width > 0 ? width : (BN_num_bits(value) + 7) / 8
            var out = [UInt8](repeating: 0, count: Int(size))
            _ = BN_bn2binpad(value, &out, size)
            return Base64URL.encode(out)
        }
        switch algorithm {
        case .rs256:
            return ["kty": "RSA", "use": "sig", "alg": "RS256", "kid": .string(keyID), "n": .string(number("n")), "e": .string(number("e"))]
        case .es256:
            return ["kty": "EC", "use": "sig", "alg": "ES256", "kid": .string(keyID), "crv": "P-256",
                    "x": .string(number("qx", width: 32)), "y": .string(number("qy", width: 32))]
        }
    }

    deinit { EVP_PKEY_free(key) }

    func verify(_ signature: [UInt8], of input: [UInt8]) -> Bool {
        let encoded: [UInt8]
        if algorithm == .es256 {
            guard let der = ECDSASignature.der(fromRaw: signature) else { return false }
            encoded = der
        } else {
            encoded = signature
        }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        let ok = EVP_DigestVerify(context, encoded, encoded.count, input, input.count) == 1
        ERR_clear_error()
        return ok
    }
}

/// Why a token could not be made or was refused. The messages never include the token.
public enum JWTError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case noMatchingKey(algorithm: String)
    case badSignature
    case expired(Date)
    case notYetValid(Date)
    case unsupportedKey(String)
    case openSSL(function: String, message: String)

    static func openSSL(_ function: String) -> JWTError {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return .openSSL(function: function, message: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed token: \(why)"
        case .unsupportedAlgorithm(let name): return "token algorithm \"\(name)\" is not accepted: only RS256 and ES256 are"
        case .noMatchingKey(let algorithm): return "no trusted key verifies \(algorithm) tokens"
        case .badSignature: return "the token's signature does not verify against any trusted key"
        case .expired(let date): return "the token expired at \(date)"
        case .notYetValid(let date): return "the token is not valid before \(date)"
        case .unsupportedKey(let why): return "unsupported key: \(why)"
        case .openSSL(let function, let message): return "OpenSSL \(function) failed: \(message)"
        }
    }
}

/// base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil for anything but unpadded base64url.
    public static func decode<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        guard text.utf8.allSatisfy({ byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
        }), text.utf8.count % 4 != 1 else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}

/// ECDSA signatures between OpenSSL's DER and JWS's fixed-width r‖s (32 bytes each for P-256).
private enum ECDSASignature {
    static func raw(fromDER der: [UInt8]) throws(JWTError) -> [UInt8] {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw JWTError.openSSL("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(parsed) }
        var r: OpaquePointer?
        var s: OpaquePointer?
        ECDSA_SIG_get0(parsed, &r, &s)
        var out = [UInt8](repeating: 0, count: 64)
        let written = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(r, buffer.baseAddress, 32) + BN_bn2binpad(s, buffer.baseAddress! + 32, 32)
        }
        guard written == 64 else { throw JWTError.openSSL("BN_bn2binpad") }
        return out
    }

    static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + 32, 32, nil) }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int(length))
        let written = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? out : nil
    }
}

/// Reading and writing EVP_PKEYs as PEM, and the JWS algorithm a key's type allows.
private enum OpenSSLKey {
    static func read(_ pem: String, _ body: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        let bytes = Array(pem.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    static func pem(_ function: String, _ write: (OpaquePointer) -> Int32) throws(JWTError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw JWTError.openSSL("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw JWTError.openSSL(function) }
        var data: UnsafeMutablePointer<CChar>?
        let length = ctenantry_bio_mem_data(bio, &data)
        guard let data, length > 0 else { throw JWTError.openSSL("BIO_get_mem_data") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// RS256 for RSA keys of 2048 bits or more, ES256 for P-256 keys; anything else is refused.
    static func algorithm(of key: OpaquePointer) throws(JWTError) -> JWTAlgorithm {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            guard EVP_PKEY_get_bits(key) >= 2048 else { throw JWTError.unsupportedKey("RSA keys must have at least 2048 bits") }
            return .rs256
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(key, "group", &name, name.count, &length) == 1,
                  String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "prime256v1" else {
                ERR_clear_error()
                throw JWTError.unsupportedKey("EC keys must be on the P-256 curve (ES256)")
            }
            return .es256
        default:
            throw JWTError.unsupportedKey("only RSA (RS256) and P-256 EC (ES256) keys sign or verify tokens")
        }
    }
}
