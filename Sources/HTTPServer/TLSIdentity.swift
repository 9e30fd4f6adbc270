import Foundation
import Support

/// A certificate and private key in PEM, for serving HTTPS.
public struct TLSIdentity: Sendable, Hashable {
    public var certificatePEM: String
    public var privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// A new P-256 key and a self-signed certificate valid for the given IP addresses and DNS names.
    /// It is its own CA (basicConstraints CA:TRUE), so a client trusts it by listing it as the CA. Made by
    /// Support's libcrypto wrapper.
    public static func selfSigned(commonName: String, ipAddresses: [String], dnsNames: [String], days: Int) throws(TLSIdentityError) -> TLSIdentity {
        let made = try Crypto.selfSignedCertificate(commonName: commonName, ipAddresses: ipAddresses, dnsNames: dnsNames, days: days)
        return TLSIdentity(certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM)
    }
}

/// The error of `selfSigned`: Support's `CertificateError` (the libcrypto function, OpenSSL's code and text).
public typealias TLSIdentityError = CertificateError
