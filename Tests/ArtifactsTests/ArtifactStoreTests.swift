import Artifacts
import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The same contract for every store: what goes in comes out, with ranges, listings, limits and deletes.
func exercise(_ store: some ArtifactStore, file: StaticString = #filePath, line: UInt = #line) throws {
    let log = try ArtifactKey(namespace: "payments-staging", session: "gh-1", name: "runner.log")
    let text = Array("line one\nline two\nline three\n".utf8)
    let info = try store.put(log, bytes: text, contentType: "text/plain; charset=utf-8")
    XCTAssertEqual(info.size, text.count, file: file, line: line)
    let whole = try store.get(log, range: nil)
    XCTAssertEqual(whole.bytes, text, file: file, line: line)
    XCTAssertEqual(whole.info.contentType, "text/plain; charset=utf-8", file: file, line: line)
    XCTAssertNil(whole.range, file: file, line: line)

    let part = try store.get(log, range: try ByteRange(header: "bytes=9-16"))
    XCTAssertEqual(String(decoding: part.bytes, as: UTF8.self), "line two", file: file, line: line)
    XCTAssertEqual(part.range, 9...16, file: file, line: line)
    XCTAssertEqual(part.info.size, text.count, file: file, line: line)
    XCTAssertEqual(String(decoding: try store.get(log, range: .suffix(6)).bytes, as: UTF8.self), "three\n", file: file, line: line)
    XCTAssertEqual(try store.get(log, range: .from(20, through: nil)).bytes, Array(text[20...]), file: file, line: line)
    XCTAssertThrowsError(try store.get(log, range: .from(1000, through: nil)), file: file, line: line) { error in
        guard case .rangeNotSatisfiable? = error as? ArtifactError else { return XCTFail("\(error)", file: file, line: line) }
    }

    // Binary content with NUL bytes, a name with spaces and non-ASCII letters, another session, another namespace.
    let patch = try ArtifactKey(namespace: "payments-staging", session: "gh-1", name: "workspace diff ü.patch")
    let binary: [UInt8] = [0, 1, 2, 255, 0, 10, 13]
    _ = try store.put(patch, bytes: binary, contentType: "text/x-diff")
    XCTAssertEqual(try store.get(patch, range: nil).bytes, binary, file: file, line: line)
    _ = try store.put(try ArtifactKey(namespace: "payments-staging", session: "gh-2", name: "runner.log"), bytes: [1], contentType: "text/plain")
    _ = try store.put(try ArtifactKey(namespace: "support-agents", session: "gh-1", name: "runner.log"), bytes: [2], contentType: "text/plain")

    let listed = try store.list(namespace: "payments-staging", session: "gh-1")
    XCTAssertEqual(listed.map(\.key.name), ["runner.log", "workspace diff ü.patch"], file: file, line: line)
    XCTAssertEqual(listed.map(\.contentType), ["text/plain; charset=utf-8", "text/x-diff"], file: file, line: line)
    XCTAssertEqual(listed.map(\.size), [text.count, binary.count], file: file, line: line)
    XCTAssertLessThan(abs(listed[0].createdAt.timeIntervalSinceNow), 600, file: file, line: line)
    XCTAssertEqual(try store.sessions(namespace: "payments-staging"), ["gh-1", "gh-2"], file: file, line: line)
    XCTAssertEqual(try store.list(namespace: "payments-staging", session: "gh-404"), [], file: file, line: line)

    // Replacing keeps one artifact under the name.
    _ = try store.put(log, bytes: Array("new\n".utf8), contentType: "text/plain")
    XCTAssertEqual(try store.get(log, range: nil).bytes, Array("new\n".utf8), file: file, line: line)
    XCTAssertEqual(try store.list(namespace: "payments-staging", session: "gh-1").count, 2, file: file, line: line)

    try store.delete(patch)
    try store.delete(patch)  // not there: no error
    XCTAssertThrowsError(try store.get(patch, range: nil), file: file, line: line) { error in
        XCTAssertEqual("\(error)", "artifact payments-staging/gh-1/workspace diff ü.patch not found", file: file, line: line)
    }
    XCTAssertEqual(try store.list(namespace: "payments-staging", session: "gh-1").map(\.key.name), ["runner.log"], file: file, line: line)
}

/// The limits: `maxPerSession` names per session (replacing one is fine), `maxBytes` per artifact.
func exerciseLimits(_ store: some ArtifactStore, file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(store.limits, ArtifactLimits(maxPerSession: 3, maxBytes: 16), file: file, line: line)
    for index in 0..<3 {
        _ = try store.put(try ArtifactKey(namespace: "docs", session: "s-1", name: "out-\(index)"), bytes: [1], contentType: "text/plain")
    }
    XCTAssertThrowsError(try store.put(try ArtifactKey(namespace: "docs", session: "s-1", name: "out-3"), bytes: [1], contentType: "text/plain"),
                         file: file, line: line) { error in
        XCTAssertEqual("\(error)", "session docs/s-1 already has 3 artifacts, the most a session may keep; delete one or overwrite an existing name",
                       file: file, line: line)
    }
    XCTAssertNoThrow(try store.put(try ArtifactKey(namespace: "docs", session: "s-1", name: "out-0"), bytes: [2], contentType: "text/plain"),
                     file: file, line: line)
    XCTAssertThrowsError(try store.put(try ArtifactKey(namespace: "docs", session: "s-2", name: "big"), bytes: [UInt8](repeating: 0, count: 17),
                                       contentType: "application/octet-stream"), file: file, line: line) { error in
        XCTAssertEqual("\(error)", "artifact big is 17 bytes, more than the 16-byte limit per artifact", file: file, line: line)
    }
    XCTAssertEqual(try store.list(namespace: "docs", session: "s-2"), [], file: file, line: line)
}

final class ArtifactKeyTests: XCTestCase {
    func testUnsafeNamesAreRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("", "it is empty"), ("..", "it is a relative path"), (".", "it is a relative path"), ("../etc/passwd", "it starts with a dot"),
            ("a/../../b", "it contains a path separator"), ("a\\b", "it contains a path separator"), ("log\n", "it contains a control character"),
            ("a\u{0}b", "it contains a control character"), ("a\u{202E}gpj.exe", "it contains a control character"), (".meta", "it starts with a dot"),
            ("x..y", "it contains \"..\""), (String(repeating: "a", count: 256), "longer than 255 bytes"),
        ]
        for (name, reason) in cases {
            XCTAssertThrowsError(try ArtifactKey(namespace: "docs", session: "s-1", name: name), name) { error in
                XCTAssertTrue("\(error)".hasSuffix(reason), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"), "the name is escaped in the message")
            }
        }
        XCTAssertNoThrow(try ArtifactKey(namespace: "docs", session: "s-1", name: "report (final) v2.md"))
        XCTAssertThrowsError(try ArtifactKey(namespace: "../docs", session: "s-1", name: "log"))
        XCTAssertThrowsError(try ArtifactKey(namespace: "docs", session: "S_1", name: "log"))
        XCTAssertThrowsError(try ArtifactKey(namespace: "docs", session: "s..1", name: "log"))
    }

    func testRangeHeadersParseAndResolve() throws {
        XCTAssertEqual(try ByteRange(header: "bytes=0-9").resolved(size: 5), 0...4)
        XCTAssertEqual(try ByteRange(header: "bytes=3-").resolved(size: 5), 3...4)
        XCTAssertEqual(try ByteRange(header: "bytes=-2").resolved(size: 5), 3...4)
        XCTAssertEqual(try ByteRange(header: "bytes=-9").resolved(size: 5), 0...4)
        XCTAssertNil(try ByteRange(header: "bytes=5-").resolved(size: 5))
        for bad in ["bytes=5-2", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=-0", "bytes=-", "bytes="] {
            XCTAssertThrowsError(try ByteRange(header: bad), bad)
        }
    }
}

final class LocalArtifactStoreTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-artifacts-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testTheStoreContract() throws {
        try exercise(LocalArtifactStore(root: root.path))
        // On disk: per-namespace and per-session directories, nothing outside the root.
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("payments-staging/gh-1/runner.log").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("support-agents/gh-1/runner.log").path))
    }

    func testLimits() throws {
        try exerciseLimits(LocalArtifactStore(root: root.path, limits: ArtifactLimits(maxPerSession: 3, maxBytes: 16)))
    }

    func testExpiredArtifactsAreDeletedAndOnlyThose() throws {
        final class Clock: @unchecked Sendable {
            private let lock = NSLock()
            private var date = Date(timeIntervalSince1970: 1_000_000)
            var now: Date { lock.lock(); defer { lock.unlock() }; return date }
            func advance(_ seconds: TimeInterval) { lock.lock(); date += seconds; lock.unlock() }
        }
        let clock = Clock()
        let store = LocalArtifactStore(root: root.path, clock: { clock.now })
        let old = try ArtifactKey(namespace: "docs", session: "s-1", name: "old.log")
        _ = try store.put(old, bytes: [1], contentType: "text/plain")
        clock.advance(31 * 86_400)
        let now = clock.now
        let fresh = try ArtifactKey(namespace: "docs", session: "s-2", name: "new.log")
        _ = try store.put(fresh, bytes: [1], contentType: "text/plain")
        let removed = try store.deleteExpired(namespace: "docs", before: now.addingTimeInterval(-30 * 86_400))
        XCTAssertEqual(removed, [old])
        XCTAssertThrowsError(try store.get(old, range: nil))
        XCTAssertEqual(try store.get(fresh, range: nil).bytes, [1])
    }

    func testFilesPlacedByHandWithUnsafeNamesAreNotServed() throws {
        let store = LocalArtifactStore(root: root.path)
        _ = try store.put(try ArtifactKey(namespace: "docs", session: "s-1", name: "ok"), bytes: [1], contentType: "text/plain")
        try Data([1]).write(to: root.appendingPathComponent("docs/s-1/bad\nname"))
        XCTAssertEqual(try store.list(namespace: "docs", session: "s-1").map(\.key.name), ["ok"])
    }
}

final class S3ArtifactStoreTests: XCTestCase {
    nonisolated(unsafe) private static var server: MotoServer?

    override class func tearDown() {
        server?.stop()
        server = nil
    }

    private func moto() throws -> MotoServer {
        if let server = Self.server { return server }
        let server = try MotoServer()
        Self.server = server
        return server
    }

    private func store(prefix: String, limits: ArtifactLimits = ArtifactLimits(), secret: String? = nil) throws -> S3ArtifactStore {
        let moto = try moto()
        return S3ArtifactStore(.init(endpoint: moto.endpoint, bucket: moto.bucket, prefix: prefix, accessKeyID: moto.accessKeyID,
                                     secretAccessKey: secret ?? moto.secretAccessKey), limits: limits)
    }

    /// Against moto with authentication on: a request libcurl signed wrongly would be refused.
    func testTheStoreContractAgainstMotoWithSignedRequests() throws {
        try exercise(try store(prefix: "contract/"))
    }

    func testAnArtifactOfSeveralMebibytesRoundTrips() throws {
        let store = try store(prefix: "big/")
        let bytes = (0..<(5 * 1024 * 1024 + 7)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let key = try ArtifactKey(namespace: "docs", session: "s-1", name: "workspace.tar")
        _ = try store.put(key, bytes: bytes, contentType: "application/x-tar")
        XCTAssertEqual(try store.get(key, range: nil).bytes, bytes)
        XCTAssertEqual(try store.get(key, range: .suffix(3)).bytes, Array(bytes.suffix(3)))
    }

    func testLimitsAgainstMoto() throws {
        try exerciseLimits(try store(prefix: "limits/", limits: ArtifactLimits(maxPerSession: 3, maxBytes: 16)))
    }

    func testAWrongSecretIsRefusedBySignatureCheck() throws {
        let bad = try store(prefix: "bad/", secret: "not-the-secret")
        XCTAssertThrowsError(try bad.put(try ArtifactKey(namespace: "docs", session: "s-1", name: "log"), bytes: [1], contentType: "text/plain")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("403"), text)
            XCTAssertTrue(text.contains("SignatureDoesNotMatch"), text)
            XCTAssertFalse(text.contains("not-the-secret"), "never print the secret")
        }
    }

    func testObjectsLandUnderTheirPrefixWithTheirContentType() throws {
        let store = try store(prefix: "check/")
        _ = try store.put(try ArtifactKey(namespace: "docs", session: "s-9", name: "summary.json"), bytes: Array("{}".utf8), contentType: "application/json")
        let moto = try moto()
        let script = """
        import boto3, sys
        s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
        head = s3.head_object(Bucket=sys.argv[2], Key="check/docs/s-9/summary.json")
        print(head["ContentType"], head["ContentLength"])
        """
        let result = try Tool.run("python3", ["-c", script, moto.endpoint, moto.bucket, moto.accessKeyID, moto.secretAccessKey])
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "application/json 2", result.output)
    }
}
