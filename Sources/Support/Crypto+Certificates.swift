import CTenantry
import Foundation

// Certificates with libcrypto: part of the one libcrypto wrapper (`Crypto`), in a file of its own.
extension Crypto {
    /// A new P-256 key and a self-signed certificate valid for the given IP addresses and DNS names.
    /// It is its own CA (basicConstraints CA:TRUE), so a client trusts it by listing it as the CA.
    public static func selfSignedCertificate(commonName: String, ipAddresses: [String], dnsNames: [String], days: Int) throws(CertificateError)
        -> (certificatePEM: String, privateKeyPEM: String) {
        guard let key = ctenantry_ec_p256_key() else { throw CertificateError.last("EVP_EC_gen") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw CertificateError.last("X509_new") }
        defer { X509_free(certificate) }
        try check(X509_set_version(certificate, 2), "X509_set_version")
        var serial = UInt64.random(in: 1...UInt64(Int64.max))
        let serialNumber = withUnsafeBytes(of: &serial) { bytes in
            BN_bin2bn(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(bytes.count), nil)
        }
        defer { BN_free(serialNumber) }
        guard BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(certificate)) != nil else { throw CertificateError.last("BN_to_ASN1_INTEGER") }
        guard X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
              X509_gmtime_adj(X509_getm_notAfter(certificate), days * 86_400) != nil else { throw CertificateError.last("X509_gmtime_adj") }
        try check(X509_set_pubkey(certificate, key), "X509_set_pubkey")
        let name = X509_get_subject_name(certificate)
        try check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0), "X509_NAME_add_entry_by_txt")
        try check(X509_set_issuer_name(certificate, name), "X509_set_issuer_name")
        let alternativeNames = (ipAddresses.map { "IP:\($0)" } + dnsNames.map { "DNS:\($0)" }).joined(separator: ",")
        for (nid, value) in [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,digitalSignature,keyCertSign"),
                             (NID_ext_key_usage, "serverAuth"), (NID_subject_alt_name, alternativeNames)] {
            guard let extensionValue = X509V3_EXT_conf_nid(nil, nil, nid, value) else { throw CertificateError.last("X509V3_EXT_conf_nid") }
            defer { X509_EXTENSION_free(extensionValue) }
            try check(X509_add_ext(certificate, extensionValue, -1), "X509_add_ext")
        }
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw CertificateError.last("X509_sign") }
        let certificatePEM = try pem("PEM_write_bio_X509") { PEM_write_bio_X509($0, certificate) }
        let keyPEM = try pem("PEM_write_bio_PrivateKey") { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return (certificatePEM, keyPEM)
    }

    private static func pem(_ function: String, _ write: (OpaquePointer) -> Int32) throws(CertificateError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CertificateError.last("BIO_new") }
        defer { BIO_free(bio) }
        try check(write(bio), function)
        var data: UnsafeMutablePointer<CChar>?
        let length = ctenantry_bio_mem_data(bio, &data)
        guard let data, length > 0 else { throw CertificateError.last("BIO_get_mem_data") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func check(_ rc: Int32, _ function: String) throws(CertificateError) {
        guard rc == 1 else { throw CertificateError.last(function) }
    }
}

/// A libcrypto call that failed while making a certificate: the function, OpenSSL's error code and text.
public struct CertificateError: Error, Sendable, Hashable, CustomStringConvertible {
    public let function: String
    public let code: UInt
    public let message: String

    /// Reads (and clears) OpenSSL's thread-local error queue in the same call that failed.
    static func last(_ function: String) -> CertificateError {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return CertificateError(function: function, code: code, message: message)
    }

    public var description: String { "cannot create the TLS certificate: \(function) failed (OpenSSL error \(code): \(message))" }
}
