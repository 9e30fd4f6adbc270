import Foundation
import Model
@testable import Render
import TestSupport
import XCTest

/// Rules checked per tenant and across tenants; every message names file, line, column and field.
final class TenantValidationTests: XCTestCase {
    private func only(_ repo: TempRepo, _ name: String) throws -> TenantResult {
        try XCTUnwrap(try repo.validate().tenants.first { $0.name == name })
    }

    func testABudgetThatIsNotADecimalNamesFileLineAndField() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(of: "monthly: \"100.00\"", with: "monthly: lots"))
        let alpha = try only(repo, "alpha")
        XCTAssertFalse(alpha.isValid)
        XCTAssertEqual(alpha.messages, ["tenants/alpha.yaml:13:14: policy.budget.monthly: expected a decimal string like \"1000.00\", got \"lots\""])
    }

    func testAPlainNumberBudgetIsReadExactly() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(of: "monthly: \"100.00\"", with: "monthly: 1234.5"))
        XCTAssertEqual(try only(repo, "alpha").tenant?.policy.budget.monthly.description, "1234.50")
    }

    func testOneBadTenantNeverBlocksTheOthers() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha"))
        try repo.write("tenants/beta.yaml", TempRepo.tenant("beta", extra: "colour: blue\n"))
        try repo.write("tenants/gamma.yaml", TempRepo.tenant("gamma"))
        let rendered = try repo.render()
        XCTAssertEqual(rendered.tenants.map(\.name), ["alpha", "beta", "gamma"])
        XCTAssertEqual(rendered.tenants.map(\.isValid), [true, false, true])
        XCTAssertTrue(rendered.tenants[1].manifests.isEmpty)
        XCTAssertFalse(rendered.tenants[0].manifests.isEmpty)
        XCTAssertFalse(rendered.tenants[2].manifests.isEmpty)
        XCTAssertFalse(rendered.manifests.contains { $0.owner == "beta" })
        XCTAssertEqual(rendered.tenants[1].messages, ["tenants/beta.yaml:14:1: colour: unknown field \"colour\""])
    }

    func testABrokenPlatformFileStopsEverything() throws {
        let repo = try TempRepo(platform: TempRepo.platform.replacingOccurrences(of: "currency: USD", with: "currency: dollars"))
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha"))
        XCTAssertThrowsError(try repo.validate()) { error in
            let messages = (error as? RepoError)?.diagnostics.map(\.description) ?? []
            XCTAssertEqual(messages, ["platform.yaml:19:13: budget.currency: expected a three-letter ISO 4217 currency code like \"USD\", got \"dollars\""])
        }
    }

    func testAMissingPlatformFileIsExplained() throws {
        let repo = try TempRepo(platform: nil)
        XCTAssertThrowsError(try repo.validate()) { error in
            XCTAssertTrue("\(error)".contains("platform.yaml: missing"), "\(error)")
        }
    }

    func testUnknownFieldsSuggestTheClosestKnownOne() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(of: "  budget:", with: "  budjet:"))
        XCTAssertEqual(try only(repo, "alpha").messages, [
            "tenants/alpha.yaml:10:3: policy: missing required field \"budget\"",
            "tenants/alpha.yaml:12:3: policy.budjet: unknown field \"budjet\" (did you mean \"budget\"?)",
        ])
    }

    func testClaimsAcrossTenantsFailBothClaimantsNamingEachOther() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha", namespaces: ["alpha", "shared"], extra: """
        routing:
          github:
            - repository: Acme/Api
          slack:
            - channel: C0123ABCD

        """))
        try repo.write("tenants/beta.yaml", TempRepo.tenant("beta", namespaces: ["shared"], extra: """
        routing:
          github:
            - repository: acme/api
          slack:
            - channel: C0123ABCD

        """))
        try repo.write("tenants/gamma.yaml", TempRepo.tenant("gamma"))
        let validated = try repo.validate()
        let alpha = validated.tenants[0], beta = validated.tenants[1]
        XCTAssertFalse(alpha.isValid)
        XCTAssertFalse(beta.isValid)
        XCTAssertTrue(validated.tenants[2].isValid)
        XCTAssertTrue(alpha.messages.contains("tenants/alpha.yaml:6:11: namespaces[1].name: namespace \"shared\" is also claimed by tenant \"beta\" (tenants/beta.yaml:5:11); each may belong to one tenant only"), "\(alpha.messages)")
        XCTAssertTrue(beta.messages.contains("tenants/beta.yaml:5:11: namespaces[0].name: namespace \"shared\" is also claimed by tenant \"alpha\" (tenants/alpha.yaml:6:11); each may belong to one tenant only"), "\(beta.messages)")
        XCTAssertTrue(alpha.messages.contains { $0.contains("GitHub repository \"acme/api\" is also claimed by tenant \"beta\"") }, "repositories compare case-insensitively")
        XCTAssertTrue(beta.messages.contains { $0.contains("Slack channel \"C0123ABCD\" is also claimed by tenant \"alpha\"") })
    }

    func testTheSameAPIKeyHashInTwoTenantsFailsWithoutPrintingIt() throws {
        let hash = "sha256:" + String(repeating: "ab", count: 32)
        let repo = try TempRepo()
        for name in ["alpha", "beta"] {
            try repo.write("tenants/\(name).yaml", TempRepo.tenant(name).replacingOccurrences(
                of: "  - name: \(name)\n", with: "  - name: \(name)\n    apiKeys:\n      github: \(hash)\n"))
        }
        let validated = try repo.validate()
        XCTAssertEqual(validated.tenants.map(\.isValid), [false, false])
        for tenant in validated.tenants {
            XCTAssertTrue(tenant.messages.contains { $0.contains("this webhook API key is also claimed by tenant") }, "\(tenant.messages)")
            XCTAssertFalse(tenant.messages.joined().contains(hash))
        }
    }

    func testAPlaintextAPIKeyIsNeverEchoed() throws {
        let secret = "tnt_live_4f9d2c1b8e7a6f5d4c3b2a1908f7e6d5"
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(
            of: "  - name: alpha\n", with: "  - name: alpha\n    apiKeys:\n      generic: \(secret)\n"))
        let alpha = try only(repo, "alpha")
        XCTAssertFalse(alpha.isValid)
        XCTAssertEqual(alpha.diagnostics.count, 1)
        XCTAssertFalse(alpha.messages.joined().contains(secret))
        XCTAssertFalse(alpha.messages.joined().contains("tnt_live"))
    }

    func testReservedAndMalformedNamespacesAreRefused() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha", namespaces: ["kube-system", "default", "Bad_Name", String(repeating: "a", count: 64), "ok"]))
        let messages = try only(repo, "alpha").messages
        XCTAssertEqual(messages.count, 4, "\(messages)")
        XCTAssertTrue(messages[0].contains("namespace \"kube-system\" is reserved by the platform (\"kube-*\""))
        XCTAssertTrue(messages[1].contains("namespace \"default\" is reserved"))
        XCTAssertTrue(messages[2].contains("\"Bad_Name\" is not a valid name"))
        XCTAssertTrue(messages[3].contains("is 64 characters; a namespace name has at most 63"))
    }

    func testModelsAndToolsMustComeFromThePlatformCatalog() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(
            of: "    allowed: [claude-sonnet-4-5]\n", with: "    allowed: [claude-sonnet-4-5, gpt-9]\n    blocked: [claude-sonnet-4-5]\n")
            + "  tools:\n    allowed: [git, shell]\n    blocked: [shell, rm-rf]\n")
        let messages = try only(repo, "alpha").messages
        XCTAssertEqual(messages.count, 4, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("policy.models.allowed[1]: model \"gpt-9\" is not in the platform catalog") })
        XCTAssertTrue(messages.contains { $0.contains("model \"claude-sonnet-4-5\" is both allowed and blocked") })
        XCTAssertTrue(messages.contains { $0.contains("tool \"shell\" is both allowed and blocked") })
        XCTAssertTrue(messages.contains { $0.contains("policy.tools.blocked[1]: tool \"rm-rf\" is not one the platform allows") })
    }

    func testBudgetsAboveThePlatformMaximumAreRefused() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(of: "\"100.00\"", with: "\"25000.01\""))
        XCTAssertEqual(try only(repo, "alpha").messages,
                       ["tenants/alpha.yaml:13:14: policy.budget.monthly: 25000.01 USD is over the platform maximum of 25000.00 USD a month"])
    }

    func testMemberIdentitiesMustBeWellFormedAndNotSystemOnes() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha").replacingOccurrences(of: """
          - user: ada@example.com
            role: admin
        """, with: """
          - user: ada@example.com
            role: admin
          - group: system:masters
            role: viewer
          - user: "not an email"
            role: viewer
          - user: ada@example.com
            role: editor
          - user: bob@example.com
            group: devs
            role: editor
          - group: ops
            role: editor
            namespaces: [elsewhere]
        """))
        let messages = try only(repo, "alpha").messages
        XCTAssertEqual(messages.count, 5, "\(messages)")
        XCTAssertTrue(messages[0].contains("members[1].group: \"system:masters\" is a Kubernetes system group"))
        XCTAssertTrue(messages[1].contains("members[2].user: \"not an email\" is not a valid user"))
        XCTAssertTrue(messages[2].contains("members[3]: user ada@example.com is already a member (members[0])"))
        XCTAssertTrue(messages[3].contains("members[4]: give exactly one of \"user\" or \"group\""))
        XCTAssertTrue(messages[4].contains("members[5].namespaces[0]: \"elsewhere\" is not one of this tenant's namespaces"))
    }

    func testLimitsAreCheckedAgainstThePlatformsCeilings() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha") + """
          maxConcurrentSessions: 51
          sessionTimeout: 25h
          sessionsPerMinute: 0

        """)
        let messages = try only(repo, "alpha").messages
        XCTAssertEqual(messages, [
            "tenants/alpha.yaml:14:26: policy.maxConcurrentSessions: must be between 1 and 50, got 51",
            "tenants/alpha.yaml:15:19: policy.sessionTimeout: 25h is longer than the platform limit of 24h",
            "tenants/alpha.yaml:16:22: policy.sessionsPerMinute: must be between 1 and 60, got 0",
        ])
    }

    /// N claimants of one namespace, repository or key make N messages, each naming one other claimant and
    /// how many more: not N² names (2,000 tenants took 0.8 GB before).
    func testManyClaimantsOfOneNameGetOneShortMessageEach() throws {
        let hash = "sha256:" + String(repeating: "cd", count: 32)
        let repo = try TempRepo()
        let names = (0..<1_002).map { String(format: "t%04d", $0) }
        let routing = "routing:\n  github:\n    - repository: acme/api\n"
        for name in names {
            try repo.write("tenants/\(name).yaml", TempRepo.tenant(name, namespaces: [name, "shared"], extra: routing)
                .replacingOccurrences(of: "  - name: \(name)\n", with: "  - name: \(name)\n    apiKeys:\n      github: \(hash)\n"))
        }
        try repo.write("tenants/copy/t0001.yaml", TempRepo.tenant("t0001", namespaces: ["other"]))
        let validated = try repo.validate()
        XCTAssertEqual(validated.tenants.filter(\.isValid).count, 0)
        let first = try XCTUnwrap(validated.tenants.first { $0.file == "tenants/t0000.yaml" })
        XCTAssertEqual(first.messages, [
            "tenants/t0000.yaml:7:15: namespaces[0].apiKeys.github: this webhook API key is also claimed by tenant \"t0001\" (tenants/t0001.yaml:7:15) and 1,000 more; each may belong to one tenant only",
            "tenants/t0000.yaml:8:11: namespaces[1].name: namespace \"shared\" is also claimed by tenant \"t0001\" (tenants/t0001.yaml:8:11) and 1,000 more; each may belong to one tenant only",
            "tenants/t0000.yaml:19:19: routing.github[0].repository: GitHub repository \"acme/api\" is also claimed by tenant \"t0001\" (tenants/t0001.yaml:19:19) and 1,000 more; each may belong to one tenant only",
        ])
        let last = try XCTUnwrap(validated.tenants.first { $0.file == "tenants/t1001.yaml" })
        XCTAssertEqual(last.messages[1], "tenants/t1001.yaml:8:11: namespaces[1].name: namespace \"shared\" is also claimed by tenant \"t0000\" (tenants/t0000.yaml:8:11) and 1,000 more; each may belong to one tenant only")
        XCTAssertFalse(validated.tenants.flatMap(\.messages).joined().contains(hash))
        // Each claimant has exactly its three claim errors: none per other claimant.
        let others = validated.tenants.filter { $0.name != "t0001" }
        XCTAssertEqual(others.count, 1_001)
        XCTAssertEqual(Set(others.map(\.diagnostics.count)), [3])
        let copies = validated.tenants.filter { $0.name == "t0001" }
        XCTAssertEqual(copies.count, 2)
        XCTAssertTrue(copies.allSatisfy { $0.messages.contains { $0.contains("tenant name \"t0001\" is also used by tenants/") && !$0.contains("more") } })
    }

    func testLargeCountsAreWrittenWithThousandsSeparators() {
        XCTAssertEqual([0, 7, 999, 1_000, 9_998, 1_234_567].map(Contest.grouped), ["0", "7", "999", "1,000", "9,998", "1,234,567"])
    }

    func testTenantNamesMustBeUnique() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha", namespaces: ["a1"]))
        try repo.write("tenants/team/alpha-copy.yaml", TempRepo.tenant("alpha", namespaces: ["a2"]))
        let validated = try repo.validate()
        XCTAssertEqual(validated.tenants.map(\.isValid), [false, false])
        XCTAssertTrue(validated.tenants[0].messages[0].contains("tenant name \"alpha\" is also used by tenants/team/alpha-copy.yaml"))
    }

    func testDefaultsFromThePlatformAreFilledIn() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha") + "quotas:\n  cpu: \"2\"\n")
        let tenant = try XCTUnwrap(try only(repo, "alpha").tenant)
        XCTAssertEqual(tenant.policy.maxConcurrentSessions, 5)
        XCTAssertEqual(tenant.policy.sessionTimeout.text, "2h")
        XCTAssertEqual(tenant.policy.retention.auditLogs.text, "7y")
        XCTAssertEqual(tenant.policy.runner, RunnerChoice(type: "claude-code", version: "1.5.2"))
        XCTAssertEqual(tenant.policy.budget.currency, "USD")
        XCTAssertEqual(tenant.namespaces[0].quotas, Quotas(cpu: Quantity("2")!, memory: Quantity("16Gi")!, pods: 20, sessions: 50))
        XCTAssertEqual(tenant.policy.models.defaultModel, "claude-sonnet-4-5")
    }

    func testNothingEmptyWidensOrSilentlyDisappears() throws {
        let repo = try TempRepo()
        let hash = "sha256:" + String(repeating: "cd", count: 32)
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha", namespaces: ["alpha", "alpha-two"])
            .replacingOccurrences(of: "  - name: alpha-two\n", with: "  - name: alpha-two\n    apiKeys:\n      github: \(hash)\n      jira: \(hash)\n")
            .replacingOccurrences(of: "    role: admin\n", with: "    role: admin\n  - user: oidc:bob\n    role: viewer\n    namespaces: []\n")
            + """
              approval:
                required: true
                approvers: []
              notifications:
                webhooks:
                  - url: https://hooks.example.com/x
                    events: []

            """)
        let messages = try only(repo, "alpha").messages
        XCTAssertEqual(messages.count, 4, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("namespaces[1].apiKeys.jira: this API key hash is already used at namespaces[1].apiKeys.github") })
        XCTAssertTrue(messages.contains { $0.contains("members[1].namespaces: an empty list grants nothing") }, "oidc:bob itself is a valid user")
        XCTAssertTrue(messages.contains { $0.contains("policy.approval: approval.required is true but no approvers are named") })
        XCTAssertTrue(messages.contains { $0.contains("policy.notifications.webhooks[0].events: list at least one event") })
    }

    func testAnUnreadableFileNeverBlocksAValidTenantOfTheSameName() throws {
        let repo = try TempRepo()
        try repo.write("tenants/docs.yaml", TempRepo.tenant("docs"))
        try repo.write("tenants/old/docs.yaml", "name: [unclosed\n")
        let validated = try repo.validate()
        XCTAssertEqual(validated.tenants.filter(\.isValid).map(\.file), ["tenants/docs.yaml"])
        XCTAssertEqual(validated.tenants.filter { !$0.isValid }.map(\.file), ["tenants/old/docs.yaml"])
    }

    func testPlatformRulesOnPatternsImagesAndContainerLimits() throws {
        let platform = TempRepo.platform
            .replacingOccurrences(of: "reservedNamespaces: [", with: "reservedNamespaces: [\"*\", ")
            .replacingOccurrences(of: "image: ghcr.io/acme/runners/claude-code\n", with: "image: ghcr.io/acme/runners/claude-code:latest\n")
            .replacingOccurrences(of: "default: {cpu: \"1\", memory: 2Gi}", with: "default: {cpu: \"1\", memory: 16Gi}")
        let repo = try TempRepo(platform: platform)
        XCTAssertThrowsError(try repo.validate()) { error in
            let messages = (error as? RepoError)?.diagnostics.map(\.description) ?? []
            XCTAssertEqual(messages.count, 3, "\(messages)")
            XCTAssertTrue(messages.contains { $0.contains("reservedNamespaces[0]: \"*\" is neither a namespace name nor a prefix pattern") })
            XCTAssertTrue(messages.contains { $0.contains("runners[0].image: \"ghcr.io/acme/runners/claude-code:latest\" must be an image repository without tag") })
            XCTAssertTrue(messages.contains { $0.contains("defaults.containers.default.memory: 16Gi is more than max (8Gi)") })
        }
    }
}
