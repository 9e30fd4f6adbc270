import Foundation
import Model
import Plan
import Render
import TestKit
import XCTest

final class PlannerTests: XCTestCase {
    /// Every example, its verdict, and the Markdown checked in beside it (`tenantry plan` over them: CommandsTests).
    static let examples: [(name: String, verdict: RepoPlan.Verdict)] = [
        ("access-and-money", .refused), ("invalid-head", .refused), ("limits-quotas-routing", .refused), ("models-tools-approval", .refused),
        ("renamed-file", .unchanged), ("tenants-added-deleted", .changes),
    ]

    private func plan(_ name: String) -> RepoPlan {
        let paths = PlanPaths.example(name)
        return Planner.plan(base: PlanSide.load(paths.base), head: PlanSide.load(paths.head))
    }

    func testEachExamplePlansToItsCheckedInMarkdownByteForByte() throws {
        for example in Self.examples {
            let plan = plan(example.name)
            let expected = try String(contentsOf: PlanPaths.example(example.name).expected, encoding: .utf8)
            XCTAssertEqual(PlanWriter.write(plan, as: .markdown), expected, "examples/plan/\(example.name)/expected.md")
            XCTAssertEqual(plan.verdict, example.verdict, example.name)
        }
    }

    func testOutputIsByteStableInEveryFormat() throws {
        for format in PlanWriter.Format.allCases {
            let first = PlanWriter.write(plan("tenants-added-deleted"), as: format)
            XCTAssertEqual(first, PlanWriter.write(plan("tenants-added-deleted"), as: format), format.rawValue)
            XCTAssertFalse(first.isEmpty)
        }
    }

    func testARenamedTenantFileWithoutChangesIsNoChange() throws {
        let plan = plan("renamed-file")
        XCTAssertEqual(plan.verdict, .unchanged)
        XCTAssertEqual(PlanWriter.write(plan, as: .text), "tenantry plan: no changes\n")
        XCTAssertFalse(plan.hasChanges)
        XCTAssertTrue(plan.objects.isEmpty)
    }

    func testAccessChangesNameWhoGainsWhichRoleWhereAndEscalationsPointAtTheLine() throws {
        let paths = PlanPaths.example("access-and-money")
        let plan = Planner.plan(base: PlanSide.load(paths.base), head: PlanSide.load(paths.head))
        let payments = try XCTUnwrap(plan.tenants.first { $0.name == "payments" })
        XCTAssertTrue(payments.changes.contains(PlanChange(.access, "user contractor.li@partner.example in payments-staging",
                                                           before: "editor", after: "admin", note: "raised")))
        XCTAssertTrue(payments.changes.contains(PlanChange(.access, "group payments-engineers-oncall in payments-prod",
                                                           before: "viewer", after: nil, note: "loses access")))
        XCTAssertTrue(payments.changes.contains(PlanChange(.money, "monthly budget", before: "5000.00 USD", after: "9000.00 USD", note: "+80%")))
        let escalations = plan.findings.filter { $0.kind == .roleEscalation }
        XCTAssertEqual(escalations.count, 2)
        XCTAssertEqual(escalations.first?.diagnostic.location, "tenants/payments.yaml:24:11")
        XCTAssertEqual(escalations.first?.diagnostic.field, "members[2].role")
        // This example's platform.yaml makes a budget rise over 50% an error rather than a warning.
        XCTAssertEqual(plan.findings.first { $0.kind == .budgetIncrease }?.severity, .error)
        XCTAssertEqual(plan.verdict, .refused)
    }

    func testGuardrailSeveritiesFollowTheDefaultsWithoutAGuardrailsSection() throws {
        let paths = PlanPaths.example("models-tools-approval")
        let plan = Planner.plan(base: PlanSide.load(paths.base), head: PlanSide.load(paths.head))
        let severities = Dictionary(plan.findings.map { ($0.kind, $0.severity) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(severities, [.modelUnblocked: .error, .approvalDisabled: .warning, .retentionShortened: .warning])
        XCTAssertEqual(plan.findings.first { $0.kind == .modelUnblocked }?.diagnostic.field, "policy.models.allowed[2]")
    }

    func testDeletedNamespacesComeFirstAndRoutingMovesAreCrossTenantClaims() throws {
        let deleted = PlanPaths.example("tenants-added-deleted")
        let plan = Planner.plan(base: PlanSide.load(deleted.base), head: PlanSide.load(deleted.head))
        XCTAssertEqual(plan.deletedNamespaces, [DeletedNamespace(namespace: "docs", tenant: "docs"),
                                                DeletedNamespace(namespace: "payments-staging", tenant: "payments")])
        let markdown = PlanWriter.markdown(plan)
        let caution = try XCTUnwrap(markdown.range(of: "**Deleted namespaces**"))
        let firstTenant = try XCTUnwrap(markdown.range(of: "#### Tenant"))
        XCTAssertLessThan(caution.lowerBound, firstTenant.lowerBound)

        let routing = PlanPaths.example("limits-quotas-routing")
        let moved = Planner.plan(base: PlanSide.load(routing.base), head: PlanSide.load(routing.head))
        let claim = try XCTUnwrap(moved.findings.first { $0.kind == .crossTenantClaim })
        XCTAssertEqual(claim.diagnostic.field, "routing.github[2].repository")
        XCTAssertTrue(claim.diagnostic.message.contains("tenant docs"), claim.diagnostic.message)
        // A rotated API key is reported without its hash.
        let text = PlanWriter.text(moved)
        XCTAssertTrue(text.contains("github key in payments-staging: set -> set (rotated)"))
        XCTAssertFalse(text.contains("sha256:"))
    }

    func testANamespaceTakenFromAnotherTenantIsAClaimNotADeletion() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plan-takeover-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = PlanPaths.example("renamed-file").base
        for side in ["base", "head"] {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: root.appendingPathComponent(side).path)
        }
        let head = root.appendingPathComponent("head/tenants")
        let docs = try String(contentsOf: head.appendingPathComponent("docs.yaml"), encoding: .utf8)
        try docs.replacingOccurrences(of: "  - name: docs\n", with: "  - name: docs-next\n")
            .write(to: head.appendingPathComponent("docs.yaml"), atomically: true, encoding: .utf8)
        let payments = try String(contentsOf: head.appendingPathComponent("payments.yaml"), encoding: .utf8)
        // payments also takes support's Jira key (support moves to a new one).
        let support = try String(contentsOf: head.appendingPathComponent("support.yaml"), encoding: .utf8)
        try support.replacingOccurrences(of: "jira: sha256:f40d", with: "jira: sha256:f50d")
            .write(to: head.appendingPathComponent("support.yaml"), atomically: true, encoding: .utf8)
        try payments.replacingOccurrences(of: "  - name: payments-staging\n", with: "  - name: docs\n  - name: payments-staging\n")
            .replacingOccurrences(of: "      github: sha256:6bc1", with: "      jira: sha256:f40d3e8a36f8c4c1a9aef4b7b1b0d2a7c1c8d6e5b4a3f2e1d0c9b8a7f6e5d4c3\n      github: sha256:6bc1")
            .write(to: head.appendingPathComponent("payments.yaml"), atomically: true, encoding: .utf8)

        let plan = Planner.plan(base: PlanSide.load(root.appendingPathComponent("base").path), head: PlanSide.load(root.appendingPathComponent("head").path))
        XCTAssertEqual(plan.deletedNamespaces, [], "a namespace that changes hands is not deleted")
        let claims = plan.findings.filter { $0.kind == .crossTenantClaim }
        XCTAssertEqual(claims.count, 2, "\(claims)")
        let key = try XCTUnwrap(claims.first { $0.diagnostic.field.hasSuffix("apiKeys") })
        XCTAssertEqual(key.diagnostic.message,
                       "the jira API key of namespace payments-staging is tenant support's on the base side; whoever holds it would start sessions here")
        XCTAssertFalse(PlanWriter.markdown(plan).contains("f40d3e8a"), "the hash is never shown")
        let claim = try XCTUnwrap(claims.first { $0.diagnostic.field == "namespaces[1].name" })
        XCTAssertEqual(claim.diagnostic.location, "tenants/payments.yaml:15:11")
        XCTAssertEqual(claim.diagnostic.field, "namespaces[1].name")
        let payment = try XCTUnwrap(plan.tenants.first { $0.name == "payments" })
        XCTAssertTrue(payment.changes.contains(PlanChange(.namespaces, "docs", before: "tenant docs", after: "this tenant", note: "taken over with its sessions")))
        // The groups that hold every payments namespace now hold this one too.
        XCTAssertTrue(payment.changes.contains(PlanChange(.access, "group payments-leads in docs", before: nil, after: "admin", note: "gains access")))
        let docsPlan = try XCTUnwrap(plan.tenants.first { $0.name == "docs" })
        XCTAssertTrue(docsPlan.changes.contains(PlanChange(.namespaces, "docs", before: "this tenant", after: "tenant payments", note: "moves to another tenant")))
        XCTAssertEqual(plan.verdict, .refused)
    }

    func testJSONCarriesTheSameContent() throws {
        let out = PlanWriter.write(plan("access-and-money"), as: .json)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(object["summary"] as? String, "2 tenants: 2 changed; objects: 1 created, 7 changed; guardrails: 3 errors")
        XCTAssertEqual(object["exitCode"] as? Int, 2)
        XCTAssertEqual((object["guardrails"] as? [[String: Any]])?.map { $0["kind"] as? String },
                       ["role-escalation", "role-escalation", "budget-increase"])
        XCTAssertEqual((object["tenants"] as? [[String: Any]])?.map { $0["name"] as? String }, ["docs", "payments"])
        XCTAssertEqual((object["objects"] as? [Any])?.count, 8)
    }

    func testMarkdownIsCutToTheLimitWithANote() throws {
        let paths = PlanPaths.example("tenants-added-deleted")
        let plan = Planner.plan(base: PlanSide.load(paths.base), head: PlanSide.load(paths.head))
        let full = PlanWriter.markdown(plan)
        let cut = PlanWriter.markdown(plan, limit: 2500)
        XCTAssertLessThanOrEqual(cut.utf8.count, 2500)
        XCTAssertLessThan(cut.utf8.count, full.utf8.count)
        XCTAssertTrue(cut.hasPrefix("**tenantry plan:** 3 tenants"))
        XCTAssertTrue(cut.contains("This plan was cut to fit GitHub's 2500-character comment limit"), cut)
        XCTAssertFalse(full.contains("This plan was cut"))
        XCTAssertEqual(cut.components(separatedBy: "<details>").count, cut.components(separatedBy: "</details>").count)
    }

    func testABrokenHeadPlatformIsRefused() throws {
        let broken = PlanPaths.root.appendingPathComponent("examples/invalid/broken-platform").path
        let plan = Planner.plan(base: PlanSide.load(PlanPaths.example("renamed-file").base), head: PlanSide.load(broken))
        XCTAssertEqual(plan.verdict, .refused)
        XCTAssertTrue(PlanWriter.write(plan, as: .text).contains("[validation]"))
    }

    func testAGuardrailsSectionWithAnUnknownKindIsRefusedWithASuggestion() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("plan-guardrails-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let platform = try String(contentsOfFile: PlanPaths.example("renamed-file").base + "/platform.yaml", encoding: .utf8)
        try (platform + "guardrails:\n  errors: [role-escalaton]\n  warnings: [validation]\n  budgetIncrease: 5\n")
            .write(to: scratch.appendingPathComponent("platform.yaml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RepoValidator.validate(try RepoLoader.load(scratch.path))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("guardrails.errors[0]: unknown value \"role-escalaton\""), text)
            XCTAssertTrue(text.contains("(did you mean \"role-escalation\"?)"), text)
            XCTAssertTrue(text.contains("guardrails.warnings[0]: \"validation\" is always an error"), text)
            XCTAssertTrue(text.contains("platform.yaml:71:3: guardrails.budgetIncrease: unknown field \"budgetIncrease\""), text)
        }
    }

    func testGitRevisionsPlanLikeTheirFolders() throws {
        let repo = try PlanGitRepo()
        let paths = PlanPaths.example("access-and-money")
        let base = try repo.commit(paths.base, prefix: "tenants-repo", message: "base")
        try repo.git(["checkout", "--quiet", "-b", "change"])
        let head = try repo.commit(paths.head, prefix: "tenants-repo", message: "head")
        let byName = try Planner.plan(repository: repo.path, base: "main", head: "change", path: "tenants-repo")
        XCTAssertEqual(byName.plan.verdict, .refused)
        XCTAssertEqual(PlanWriter.write(byName.plan, as: .markdown), try String(contentsOf: paths.expected, encoding: .utf8))

        let result = try Planner.plan(repository: repo.path, base: base, head: String(head.prefix(10)), path: "tenants-repo")
        XCTAssertEqual(result.revisions.base.hex, base)
        XCTAssertEqual(result.revisions.head.hex, head)

        // A change that creates the tenant repo's folder: the base side is empty and everything is added.
        try repo.git(["checkout", "--quiet", "--orphan", "bare"])
        try repo.git(["rm", "--quiet", "-r", "-f", "."])
        try repo.git(["commit", "--quiet", "--allow-empty", "-m", "nothing yet"])
        let created = try Planner.plan(repository: repo.path, base: "bare", head: head, path: "tenants-repo")
        XCTAssertEqual(created.plan.tenants.map(\.status), [.added, .added, .added])
        XCTAssertTrue(created.plan.notes.first?.hasPrefix("The base side cannot be rendered") == true, "\(created.plan.notes)")

        XCTAssertThrowsError(try Planner.plan(repository: repo.path, base: "main", head: "no-such-branch")) { error in
            XCTAssertTrue("\(error)".contains("no commit \"no-such-branch\""), "\(error)")
        }
    }
}
