import Support
import XCTest

/// AES-256-GCM as the web UI seals its cookie with it: a round trip, and nil for every kind of tampering.
final class AEADTests: XCTestCase {
    func testSealedBytesOpenOnlyUnchangedUnderTheSameKeyAndPurpose() throws {
        let key = Crypto.randomBytes(32)
        let message = Array("token=eyJhbGciOi; csrf=abc".utf8)
        let sealed = Crypto.sealAES256GCM(message, key: key, associated: Array("purpose".utf8))
        XCTAssertEqual(sealed.count, 12 + message.count + 16)
        XCTAssertNil(sealed.firstRange(of: Array("eyJhbGciOi".utf8)), "the plaintext does not show")
        XCTAssertEqual(Crypto.openAES256GCM(sealed, key: key, associated: Array("purpose".utf8)), message)
        XCTAssertNotEqual(Crypto.sealAES256GCM(message, key: key), Crypto.sealAES256GCM(message, key: key), "a fresh nonce each time")

        for index in [0, 12, sealed.count - 1] {
            var flipped = sealed
            flipped[index] ^= 0x01
            XCTAssertNil(Crypto.openAES256GCM(flipped, key: key, associated: Array("purpose".utf8)), "byte \(index) changed")
        }
        XCTAssertNil(Crypto.openAES256GCM(Array(sealed.dropLast()), key: key, associated: Array("purpose".utf8)), "truncated")
        XCTAssertNil(Crypto.openAES256GCM(sealed, key: Crypto.randomBytes(32), associated: Array("purpose".utf8)), "another key")
        XCTAssertNil(Crypto.openAES256GCM(sealed, key: key, associated: Array("other".utf8)), "another purpose")
        XCTAssertNil(Crypto.openAES256GCM(Array(sealed.prefix(20)), key: key), "too short for nonce and tag")
        XCTAssertEqual(Crypto.openAES256GCM(Crypto.sealAES256GCM([], key: key), key: key), [])
        XCTAssertEqual(Set((0..<64).map { _ in Crypto.randomBytes(16) }).count, 64)
    }
}
