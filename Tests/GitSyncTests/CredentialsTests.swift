import Foundation
import XCTest

@testable import GitSync

final class CredentialsTests: XCTestCase {
    private let token = "ghs_S3cr3tT0kenValue0123456789"

    func testTokensLoadFromAFileOrVariableAsBasicAuthWithTheConfiguredUsername() throws {
        let fixture = try GitFixture()
        let file = fixture.root.appendingPathComponent("token")
        try "\(token)\n".write(to: file, atomically: true, encoding: .utf8)
        let url = "https://github.com/acme/tenants.git"

        let fromFile = try CredentialSource.token(.file(file.path), username: CredentialSource.defaultTokenUsername)
            .load(for: url, environment: [:])
        XCTAssertEqual(fromFile.git, .userPassword(username: "x-access-token", password: token))
        let fromVariable = try CredentialSource.token(.environment("GIT_TOKEN"), username: "oauth2")
            .load(for: url, environment: ["GIT_TOKEN": token])
        XCTAssertEqual(fromVariable.git, .userPassword(username: "oauth2", password: token))
        XCTAssertEqual(fromVariable.redaction.apply("denied for \(token)"), "denied for ***")

        let key = fixture.root.appendingPathComponent("id_ed25519")
        try "not a real key".write(to: key, atomically: true, encoding: .utf8)
        let ssh = try CredentialSource.sshKey(privateKeyFile: key.path, publicKeyFile: nil, passphraseFile: nil, username: nil)
            .load(for: "git@github.com:acme/tenants.git", environment: [:])
        XCTAssertEqual(ssh.git, .sshKey(username: nil, publicKeyFile: nil, privateKeyFile: key.path, passphrase: nil))
    }

    func testUnreadableCredentialsFailTheFetchNamingTheSourceAndKeepTheLastGoodRevision() throws {
        let fixture = try GitFixture()
        let head = try fixture.commit(["tenants/team-a.yaml": "a\n"], message: "add team-a")
        try fixture.push()
        let tokenFile = fixture.root.appendingPathComponent("token")
        try "\(token)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        func source(_ credentials: CredentialSource) -> Source {
            Source(
                config: SourceConfig(
                    url: fixture.upstream.path, path: "tenants", credentials: credentials,
                    cacheDirectory: fixture.cache.path),
                environment: [:])
        }
        // Local repositories ask for no credentials, but the configured ones are still read.
        let good = try source(.token(.file(tokenFile.path), username: "x-access-token")).fetch()
        try FileManager.default.removeItem(at: tokenFile)
        try fixture.commit(["tenants/team-a.yaml": "a2\n"], message: "not fetched")
        try fixture.push()

        let cases: [(CredentialSource, String)] = [
            (.token(.file(tokenFile.path), username: "x-access-token"),
             "cannot read the token file \(tokenFile.path); check the path and its permissions"),
            (.token(.file(fixture.root.path), username: "x-access-token"),
             "cannot read the token file \(fixture.root.path); check the path and its permissions"),
            (.token(.environment("GIT_TOKEN"), username: "x-access-token"),
             "environment variable GIT_TOKEN is not set; export the token in it or use --token-file"),
            (.sshKey(privateKeyFile: "/nonexistent/id_ed25519", publicKeyFile: nil, passphraseFile: nil, username: nil),
             "cannot read the SSH private key /nonexistent/id_ed25519; check the path and its permissions"),
        ]
        for (credentials, message) in cases {
            XCTAssertThrowsError(try source(credentials).fetch()) { error in
                XCTAssertEqual(
                    "\(error)".components(separatedBy: "\n").first,
                    "cannot load the credentials for \(fixture.upstream.path): \(message)")
                XCTAssertEqual((error as? SourceError)?.lastGood?.revision, good.revision)
            }
        }
        let checkout = URL(fileURLWithPath: source(.none).cache.checkout)
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), head)
        XCTAssertEqual(try fixture.subjects(), ["not fetched", "add team-a"])
    }

    func testATokenNeverAppearsInErrorText() throws {
        let fixture = try GitFixture()
        // Nothing listens on port 1: the fetch fails after the token was loaded.
        let urls = ["https://127.0.0.1:1/acme/tenants.git", "https://x-access-token:\(token)@127.0.0.1:1/acme/tenants.git"]
        for url in urls {
            let config = SourceConfig(
                url: url, credentials: .token(.environment("GIT_TOKEN"), username: "x-access-token"),
                cacheDirectory: fixture.cache.path)
            XCTAssertThrowsError(try Source(config: config, environment: ["GIT_TOKEN": token]).fetch()) { error in
                guard let error = error as? SourceError, case .unreachable = error.reason else {
                    return XCTFail("expected an unreachable error, got \(error)")
                }
                XCTAssertTrue("\(error)".hasPrefix("cannot fetch https://"), "\(error)")
                XCTAssertFalse("\(error)".contains(token), "\(error)")
                XCTAssertFalse("\(error.reason)".contains(token), "\(error.reason)")
            }
            let writer = StatusWriter(config: config, environment: ["GIT_TOKEN": token])
            XCTAssertThrowsError(try writer.write(StatusReport(revision: "main@sha1:" + String(repeating: "a", count: 40), time: Date(), tenants: []))) { error in
                XCTAssertTrue("\(error)".hasPrefix("cannot fetch https://"), "\(error)")
                XCTAssertFalse("\(error)".contains(token), "\(error)")
            }
        }
        // A host that refuses the token: asked once, then a clear refusal that names where the token came from.
        let server = try RefusingHTTPServer()
        defer { server.stop() }
        let refusing = SourceConfig(
            url: "http://127.0.0.1:\(server.port)/acme/tenants.git",
            credentials: .token(.environment("GIT_TOKEN"), username: "x-access-token"), cacheDirectory: fixture.cache.path)
        XCTAssertThrowsError(try Source(config: refusing, environment: ["GIT_TOKEN": token]).fetch()) { error in
            guard let error = error as? SourceError, case .authenticationRefused = error.reason else {
                return XCTFail("expected an authentication error, got \(error)")
            }
            XCTAssertTrue("\(error)".hasPrefix("authentication to http://127.0.0.1:\(server.port)/acme/tenants.git was refused ("), "\(error)")
            XCTAssertTrue(
                "\(error)".hasSuffix(
                    "check that the token in the environment variable GIT_TOKEN (sent as user x-access-token) is current and can read the repository"),
                "\(error)")
            XCTAssertFalse("\(error)".contains(token), "\(error)")
        }
        XCTAssertEqual(server.receivedCredentials, ["x-access-token:\(token)"])
        XCTAssertEqual(
            Redaction.displayURL("https://x-access-token:\(token)@github.com/acme/tenants.git"),
            "https://x-access-token:***@github.com/acme/tenants.git")
        // An empty token file is refused by name, without echoing anything from it.
        let empty = fixture.root.appendingPathComponent("empty")
        try "\n".write(to: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(
            try CredentialSource.token(.file(empty.path), username: "x").load(for: urls[0], environment: [:])
        ) { error in
            XCTAssertEqual("\(error)", "cannot load the credentials for \(urls[0]): the token file \(empty.path) is empty; put the access token in it")
        }
    }
}
