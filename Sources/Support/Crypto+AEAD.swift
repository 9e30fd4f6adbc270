import CTenantry

/// AES-256-GCM (libcrypto's EVP interface) and random bytes from OpenSSL's CSPRNG: what the web UI seals its
/// session cookie with.
extension Crypto {
    public static let aeadKeyBytes = 32
    static let nonceBytes = 12
    static let tagBytes = 16

    /// `count` bytes from RAND_bytes (a failing CSPRNG is not something to carry on from).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "OpenSSL RAND_bytes failed")
        return bytes
    }

    /// nonce (12) ‖ ciphertext ‖ tag (16), with a fresh random nonce; `associated` is authenticated, not encrypted.
    public static func sealAES256GCM(_ plaintext: [UInt8], key: [UInt8], associated: [UInt8] = []) -> [UInt8] {
        precondition(key.count == aeadKeyBytes, "AES-256-GCM needs a 32-byte key")
        let nonce = randomBytes(nonceBytes)
        guard let context = EVP_CIPHER_CTX_new() else { preconditionFailure("OpenSSL EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagBytes)
        var length: Int32 = 0
        var total = 0
        var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
        if ok, !associated.isEmpty { ok = EVP_EncryptUpdate(context, nil, &length, associated, Int32(associated.count)) == 1 }
        if ok {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(context, $0.baseAddress, &length, plaintext, Int32(plaintext.count)) } == 1
            total = Int(length)
        }
        if ok {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(context, $0.baseAddress! + total, &length) } == 1
            total += Int(length)
        }
        if ok { ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagBytes), &tag) == 1 }
        precondition(ok, "OpenSSL AES-256-GCM encryption failed")
        return nonce + out.prefix(total) + tag
    }

    /// The plaintext of what `sealAES256GCM` made under the same key and associated data; nil when anything was
    /// changed, truncated, or sealed under another key.
    public static func openAES256GCM(_ sealed: [UInt8], key: [UInt8], associated: [UInt8] = []) -> [UInt8]? {
        guard key.count == aeadKeyBytes, sealed.count >= nonceBytes + tagBytes else { return nil }
        let nonce = Array(sealed.prefix(nonceBytes))
        let ciphertext = Array(sealed.dropFirst(nonceBytes).dropLast(tagBytes))
        var tag = Array(sealed.suffix(tagBytes))
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { return nil }
        if !associated.isEmpty, EVP_DecryptUpdate(context, nil, &length, associated, Int32(associated.count)) != 1 { return nil }
        guard out.withUnsafeMutableBufferPointer({ EVP_DecryptUpdate(context, $0.baseAddress, &length, ciphertext, Int32(ciphertext.count)) }) == 1 else { return nil }
        total = Int(length)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagBytes), &tag) == 1 else { return nil }
        // The final step is where the tag is checked: anything altered fails here.
        guard out.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(context, $0.baseAddress! + total, &length) }) == 1 else { return nil }
        total += Int(length)
        return Array(out.prefix(total))
    }
}
