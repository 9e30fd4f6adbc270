import Foundation
import XCTest

@testable import GitSync

final class SourceFetchTests: XCTestCase {
    private func source(_ fixture: GitFixture, _ reference: SourceReference = .branch("main"), path: String = "tenants") -> Source {
        Source(
            config: SourceConfig(
                url: fixture.upstream.path, reference: reference, path: path, cacheDirectory: fixture.cache.path),
            environment: [:])
    }

    private func read(_ result: FetchResult, _ file: String) throws -> String {
        try String(contentsOfFile: (result.directory as NSString).appendingPathComponent(file), encoding: .utf8)
    }

    func testFirstCloneChecksOutTheBranchHeadAndListsEveryTenantFile() throws {
        let fixture = try GitFixture()
        let head = try fixture.commit(
            ["tenants/team-a.yaml": "name: team-a\n", "README.md": "tenants\n"], message: "add team-a")
        try fixture.push()

        let result = try source(fixture).fetch()

        XCTAssertEqual(result.revision.description, "main@sha1:\(head)")
        XCTAssertEqual(result.head, result.revision)
        XCTAssertNil(result.previous)
        XCTAssertFalse(result.forcePushed)
        XCTAssertEqual(result.changes, [FileChange(kind: .added, path: "tenants/team-a.yaml")])
        XCTAssertEqual(try read(result, "team-a.yaml"), "name: team-a\n")
        let checkout = URL(fileURLWithPath: source(fixture).cache.checkout)
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), head)
        XCTAssertEqual(try fixture.git(["status", "--porcelain"], in: checkout), "")
        try fixture.fsck(checkout)
    }

    func testFetchOfNewCommitsMovesTheCheckoutAndListsChangedFiles() throws {
        let fixture = try GitFixture()
        try fixture.commit(["tenants/team-a.yaml": "v1\n", "tenants/team-b.yaml": "b\n"], message: "first")
        try fixture.push()
        let first = try source(fixture).fetch()
        // A stray file in the checkout must not survive: the tree is exactly the commit.
        try "stray".write(toFile: (first.directory as NSString).appendingPathComponent("stray.yaml"), atomically: true, encoding: .utf8)

        try fixture.commit(["tenants/team-a.yaml": "v2\n", "tenants/team-b.yaml": nil, "tenants/team-c.yaml": "c\n"], message: "second")
        let head = try fixture.commit(["docs/notes.md": "outside the tenant path\n"], message: "third")
        try fixture.push()
        let second = try source(fixture).fetch()

        XCTAssertEqual(second.previous, first.revision)
        XCTAssertEqual(second.revision.description, "main@sha1:\(head)")
        XCTAssertFalse(second.forcePushed)
        XCTAssertEqual(second.changes.map(\.description), ["M tenants/team-a.yaml", "D tenants/team-b.yaml", "A tenants/team-c.yaml"])
        XCTAssertEqual(try read(second, "team-a.yaml"), "v2\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: (second.directory as NSString).appendingPathComponent("stray.yaml")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: (second.directory as NSString).appendingPathComponent("team-b.yaml")))
        let checkout = URL(fileURLWithPath: source(fixture).cache.checkout)
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), head)
        XCTAssertEqual(try fixture.git(["status", "--porcelain", "--ignored"], in: checkout), "")
        XCTAssertEqual(try fixture.git(["log", "--format=%s", "HEAD"], in: checkout), "third\nsecond\nfirst")

        // A commit outside the tenant path keeps the revision: nothing new to reconcile.
        let docsOnly = try fixture.commit(["docs/notes.md": "edited\n"], message: "docs only")
        try fixture.push()
        let third = try source(fixture).fetch()
        XCTAssertEqual(third.revision, second.revision)
        XCTAssertEqual(third.head.commit.hex, docsOnly)
        XCTAssertEqual(third.changes, [])
        try fixture.fsck(checkout)
    }

    func testTagAndCommitPinningCheckOutExactlyThePinnedCommit() throws {
        let fixture = try GitFixture()
        let tagged = try fixture.commit(["tenants/team-a.yaml": "v1\n"], message: "release 1")
        try fixture.git(["tag", "--annotate", "--message", "v1", "v1.0.0"], in: fixture.work)
        let pinned = try fixture.commit(["tenants/team-a.yaml": "v2\n"], message: "release 2")
        try fixture.commit(["tenants/team-a.yaml": "v3\n"], message: "release 3")
        try fixture.push()
        try fixture.push("v1.0.0")

        let byTag = try source(fixture, .tag("v1.0.0")).fetch()
        XCTAssertEqual(byTag.revision.description, "v1.0.0@sha1:\(tagged)")
        XCTAssertEqual(try read(byTag, "team-a.yaml"), "v1\n")
        let checkout = URL(fileURLWithPath: source(fixture).cache.checkout)
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), tagged)

        let byCommit = try source(fixture, .commit(ObjectID(hex: pinned)!, branch: "main")).fetch()
        XCTAssertEqual(byCommit.revision.description, "main@sha1:\(pinned)")
        XCTAssertEqual(try read(byCommit, "team-a.yaml"), "v2\n")
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), pinned)

        let bare = try source(fixture, .commit(ObjectID(hex: pinned)!, branch: nil)).fetch()
        XCTAssertEqual(bare.revision.description, "sha1:\(pinned)")

        let missing = String(repeating: "0", count: 40)
        XCTAssertThrowsError(try source(fixture, .commit(ObjectID(hex: missing)!, branch: nil)).fetch()) { error in
            XCTAssertEqual(
                (error as? SourceError)?.reason, .referenceMissing(.commit(ObjectID(hex: missing)!, branch: nil), available: []))
        }
        XCTAssertThrowsError(try source(fixture, .tag("v9")).fetch()) { error in
            XCTAssertTrue("\(error)".hasPrefix("tag \"v9\" not found in \(fixture.upstream.path); it has: v1.0.0\n"), "\(error)")
            XCTAssertTrue("\(error)".contains("still using sha1:\(pinned), fetched"), "\(error)")
        }
        // The failed fetch left the last good checkout alone.
        XCTAssertEqual(try read(bare, "team-a.yaml"), "v2\n")
        XCTAssertEqual(try fixture.subjects(), ["release 3", "release 2", "release 1"])
    }

    func testForcePushIsDetectedAndTheRewrittenHistoryCheckedOut() throws {
        let fixture = try GitFixture()
        try fixture.commit(["tenants/team-a.yaml": "v1\n"], message: "base")
        try fixture.commit(["tenants/team-a.yaml": "v2\n"], message: "to be rewritten")
        try fixture.push()
        let before = try source(fixture).fetch()

        try fixture.git(["reset", "--quiet", "--hard", "HEAD~1"], in: fixture.work)
        let rewritten = try fixture.commit(["tenants/team-a.yaml": "v2-rewritten\n"], message: "rewritten")
        try fixture.push(force: true)
        let after = try source(fixture).fetch()

        XCTAssertTrue(after.forcePushed)
        XCTAssertEqual(after.previous, before.revision)
        XCTAssertEqual(after.revision.description, "main@sha1:\(rewritten)")
        XCTAssertEqual(try read(after, "team-a.yaml"), "v2-rewritten\n")
        XCTAssertEqual(try fixture.subjects(), ["rewritten", "base"])
        let checkout = URL(fileURLWithPath: source(fixture).cache.checkout)
        XCTAssertEqual(try fixture.git(["log", "--format=%s", "HEAD"], in: checkout), "rewritten\nbase")

        try fixture.commit(["tenants/team-a.yaml": "v3\n"], message: "fast-forward")
        try fixture.push()
        XCTAssertFalse(try source(fixture).fetch().forcePushed)
        try fixture.fsck(checkout)
    }

    func testARepositoryThatVanishesKeepsTheLastGoodRevisionAndSaysHowOld() throws {
        let fixture = try GitFixture()
        let head = try fixture.commit(["tenants/team-a.yaml": "v1\n"], message: "base")
        try fixture.push()
        let fetchedAt = Date(timeIntervalSince1970: 1_800_000_000)
        let good = try source(fixture).fetch(now: fetchedAt)

        try FileManager.default.removeItem(at: fixture.upstream)
        XCTAssertThrowsError(try source(fixture).fetch(now: fetchedAt.addingTimeInterval(754))) { error in
            guard let error = error as? SourceError, case .unreachable = error.reason else {
                return XCTFail("expected an unreachable error, got \(error)")
            }
            XCTAssertEqual(error.lastGood?.revision.description, "main@sha1:\(head)")
            XCTAssertTrue(
                "\(error)".hasPrefix("cannot fetch \(fixture.upstream.path): the repository \(fixture.upstream.path) does not exist; "),
                "\(error)")
            XCTAssertTrue(
                "\(error)".hasSuffix("\nstill using main@sha1:\(head), fetched 12m34s ago (2027-01-15T08:00:00Z)"), "\(error)")
        }
        XCTAssertEqual(try read(good, "team-a.yaml"), "v1\n")
        XCTAssertEqual(source(fixture).current?.revision, good.revision)
        let checkout = URL(fileURLWithPath: source(fixture).cache.checkout)
        XCTAssertEqual(try fixture.git(["rev-parse", "HEAD"], in: checkout), head)
        try fixture.fsck(checkout)
    }
}
