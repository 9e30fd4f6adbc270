import Foundation
import XCTest

@testable import GitSync

final class StatusWriterTests: XCTestCase {
    private func config(_ fixture: GitFixture) -> SourceConfig {
        SourceConfig(url: fixture.upstream.path, path: "tenants", cacheDirectory: fixture.cache.path)
    }

    private func writer(_ fixture: GitFixture) -> StatusWriter {
        StatusWriter(config: config(fixture), retry: RetryPolicy(attempts: 3, initialDelay: 0), environment: [:])
    }

    private func report(_ revision: Revision, at time: Date, teamBReady: Bool = true) -> StatusReport {
        StatusReport(
            revision: revision.description, time: time,
            tenants: [
                TenantStatus(
                    name: "team-b", ready: teamBReady, applied: ["Namespace/team-b"],
                    errors: teamBReady ? [] : [
                        ValidationIssue(
                            file: "tenants/team-b.yaml", line: 7, column: 3, field: "spec.models.budget",
                            message: "expected a decimal string, got 12e3")
                    ]),
                TenantStatus(
                    name: "team-a", ready: true, applied: ["Namespace/team-a", "RoleBinding/team-a/agents"],
                    pruned: ["ConfigMap/team-a/old"], sessions: SessionCounts(running: 2, completed: 5)),
            ])
    }

    func testAConcurrentUpstreamCommitIsKeptAndTheReportRetriedOnTop() throws {
        let fixture = try GitFixture()
        try fixture.commit(["tenants/team-a.yaml": "a\n"], message: "add team-a")
        try fixture.push()
        let fetched = try Source(config: config(fixture), environment: [:]).fetch()

        // Someone pushes after our fetch: our first push is built on a stale head and refused.
        let concurrent = try fixture.commit(["tenants/team-b.yaml": "b\n"], message: "add team-b")
        try fixture.push()
        let outcome = try writer(fixture).write(report(fetched.revision, at: Date(timeIntervalSince1970: 1_800_000_000)))

        guard case .committed(let commit, "main", attempts: 2) = outcome else {
            return XCTFail("expected a commit on the second attempt, got \(outcome)")
        }
        XCTAssertEqual(try fixture.upstreamHead(), commit.hex)
        XCTAssertEqual(try fixture.git(["rev-parse", "main^"], in: fixture.upstream), concurrent)
        XCTAssertEqual(
            try fixture.subjects(), ["status: reconciled \(fetched.revision)", "add team-b", "add team-a"])
        XCTAssertEqual(
            try fixture.git(["log", "-1", "--format=%an <%ae>%n%B", "main"], in: fixture.upstream),
            "Tenantry Bot <tenantry-bot@users.noreply.invalid>\nstatus: reconciled \(fetched.revision)\n\n2 tenants, 2 ready.")
        XCTAssertEqual(
            try fixture.git(["show", "--name-only", "--format=", "main"], in: fixture.upstream),
            "status/README.md\nstatus/status.json\nstatus/tenants/team-a.md\nstatus/tenants/team-b.md")
        XCTAssertEqual(try fixture.git(["show", "main:tenants/team-b.yaml"], in: fixture.upstream), "b")
        let json = try fixture.git(["show", "main:status/status.json"], in: fixture.upstream)
        XCTAssertTrue(json.contains("\"time\": \"2027-01-15T08:00:00Z\""), json)
        try fixture.fsck(fixture.upstream)

        // The upstream author sees the report like any other commit.
        try fixture.pull()
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.work.appendingPathComponent("status/tenants/team-a.md").path))
    }

    func testARoundThatAppliedNothingAfterAChangeCommitsNothing() throws {
        let fixture = try GitFixture()
        try fixture.commit(["tenants/team-a.yaml": "a\n"], message: "add team-a")
        try fixture.push()
        let fetched = try Source(config: config(fixture), environment: [:]).fetch()
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        guard case .committed = try writer(fixture).write(report(fetched.revision, at: time)) else {
            return XCTFail("the first report must be committed")
        }
        let head = try fixture.upstreamHead()

        // The next reconcile applies and prunes nothing: the same tenants, ready, objects and sessions.
        var quiet = report(fetched.revision, at: time + 60)
        for index in quiet.tenants.indices {
            quiet.tenants[index].applied = []
            quiet.tenants[index].pruned = []
        }
        XCTAssertEqual(try writer(fixture).write(quiet), .unchanged(branch: "main"))
        XCTAssertEqual(try fixture.upstreamHead(), head)

        // Something applied again (drift put right) is news; so is a tenant that stopped being ready.
        var drift = quiet
        drift.tenants[1].applied = ["RoleBinding/team-a/agents"]
        guard case .committed = try writer(fixture).write(drift) else { return XCTFail("a round that applied something must be committed") }
        XCTAssertEqual(try writer(fixture).write(quiet), .unchanged(branch: "main"))
        var broken = quiet
        broken.tenants[0].ready = false
        guard case .committed = try writer(fixture).write(broken) else { return XCTFail("a readiness change must be committed") }
        XCTAssertEqual(try fixture.subjects().count, 4)
    }

    func testAnUnchangedReportMakesNoCommitAndAChangedOneReplacesTheDirectory() throws {
        let fixture = try GitFixture()
        try fixture.commit(["tenants/team-a.yaml": "a\n"], message: "add team-a")
        try fixture.push()
        let source = Source(config: config(fixture), environment: [:])
        let fetched = try source.fetch()
        let time = Date(timeIntervalSince1970: 1_800_000_000)

        guard case .committed = try writer(fixture).write(report(fetched.revision, at: time)) else {
            return XCTFail("the first report must be committed")
        }
        let first = try fixture.upstreamHead()

        // Same content an hour later: no commit, and the status commit is no new revision to reconcile.
        XCTAssertEqual(try writer(fixture).write(report(fetched.revision, at: time + 3600)), .unchanged(branch: "main"))
        XCTAssertEqual(try fixture.upstreamHead(), first)
        let refetched = try source.fetch()
        XCTAssertEqual(refetched.revision, fetched.revision)
        XCTAssertEqual(refetched.changes, [])

        // A real change is committed; a tenant that left the report loses its page.
        var changed = report(fetched.revision, at: time + 7200, teamBReady: false)
        changed.tenants.removeAll { $0.name == "team-a" }
        guard case .committed(_, _, attempts: 1) = try writer(fixture).write(changed) else {
            return XCTFail("a changed report must be committed")
        }
        XCTAssertEqual(try fixture.git(["rev-parse", "main^"], in: fixture.upstream), first)
        XCTAssertEqual(
            try fixture.git(["ls-tree", "-r", "--name-only", "main", "status"], in: fixture.upstream),
            "status/README.md\nstatus/status.json\nstatus/tenants/team-b.md")
        let page = try fixture.git(["show", "main:status/tenants/team-b.md"], in: fixture.upstream)
        XCTAssertTrue(page.contains("- `tenants/team-b.yaml:7:3` `spec.models.budget`: expected a decimal string, got 12e3"), page)
        XCTAssertEqual(try fixture.subjects().count, 3)
        try fixture.fsck(fixture.upstream)

        // The recorded last reconcile reads back as the report that was written.
        XCTAssertEqual(try LastReconcile.load(from: source.cache), changed)
    }
}
