import Foundation
import Model
import TestSupport
import XCTest
@testable import Sessions

final class JobBuilderTests: XCTestCase {
    private func build(_ session: SessionObject = Fixture.session()) throws -> (job: JSONObject, configMap: JSONObject) {
        let decision = SessionMachine.reconcile(Fixture.input(session))
        var job: JSONObject?
        var configMap: JSONObject?
        for action in decision.actions {
            if case .createJob(let object) = action { job = object }
            if case .createConfigMap(let object) = action { configMap = object }
        }
        return (try XCTUnwrap(job, "\(decision.status.message)"), try XCTUnwrap(configMap))
    }

    func testJobNamesAreDeterministicValidLabelValuesEvenForLongSessionNames() {
        XCTAssertEqual(JobBuilder.jobName(for: "gh-72d3162e"), "gh-72d3162e-run")
        let long = String(repeating: "a", count: 70)
        let other = String(repeating: "a", count: 69) + "b"
        XCTAssertEqual(JobBuilder.jobName(for: long), JobBuilder.jobName(for: long))
        XCTAssertNotEqual(JobBuilder.jobName(for: long), JobBuilder.jobName(for: other))
        for name in [long, other, String(repeating: "x-", count: 40) + "y"] {
            let job = JobBuilder.jobName(for: name)
            XCTAssertLessThanOrEqual(job.count, 63, job)
            XCTAssertNotNil(job.range(of: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", options: .regularExpression), job)
        }
    }

    func testTheJobIsOwnedBoundedAndRunsAsTheSessionRunner() throws {
        let (job, configMap) = try build()
        let owner = try XCTUnwrap(job["metadata"]?["ownerReferences"]?.arrayValue?.first)
        XCTAssertEqual(owner, ["apiVersion": "ambient.ai/v1alpha1", "kind": "Session", "name": "gh-72d3162e",
                               "uid": "6f1c0d1e-0000-4000-8000-000000000001", "controller": true, "blockOwnerDeletion": true])
        XCTAssertEqual(configMap["metadata"]?["ownerReferences"]?.arrayValue?.first, owner)
        let spec = try XCTUnwrap(job["spec"])
        XCTAssertEqual(spec["activeDeadlineSeconds"], 14400, "payments' sessionTimeout is 4h")
        XCTAssertEqual(spec["backoffLimit"], 0)
        XCTAssertEqual(spec["ttlSecondsAfterFinished"], 600)
        let pod = try XCTUnwrap(spec["template"]?["spec"])
        XCTAssertEqual(pod["serviceAccountName"], "session-runner")
        XCTAssertEqual(pod["restartPolicy"], "Never")
        XCTAssertEqual(pod["automountServiceAccountToken"], false)
        let container = try XCTUnwrap(pod["containers"]?.arrayValue?.first)
        XCTAssertEqual(container["image"], "ghcr.io/acme/runners/claude-code:1.5.2")
        XCTAssertNil(container["env"], "nothing in the environment, secrets least of all")
        XCTAssertEqual(container["terminationMessagePath"], "/dev/termination-log")
        let volumes = pod["volumes"]?.arrayValue ?? []
        XCTAssertEqual(volumes.first { $0["name"] == "model-credentials" }?["secret"], ["secretName": "model-credentials"])
        XCTAssertEqual(volumes.first { $0["name"] == "session" }?["configMap"], ["name": "gh-72d3162e-run"])
        XCTAssertEqual(volumes.first { $0["name"] == "token" }?["projected"]?["sources"]?.arrayValue?.first?["serviceAccountToken"]?["audience"], "tenantry")
        XCTAssertEqual(spec["backoffLimit"], 0)
        let retrying = Fixture.policy { $0.update("limits") { $0.updateObject { $0["backoffLimit"] = 2 } } }
        let retried = try JobBuilder.job(Fixture.session(), policy: retrying, environment: Fixture.environment)
        XCTAssertEqual(retried["spec"]?["backoffLimit"], 2)
    }

    func testTheExamplePlatformsScriptRunnerRunsTheReferenceRunner() throws {
        let session = Fixture.session(framework: .init(type: "script", version: "0.1.0", config: ["command": "make test"]))
        let (job, configMap) = try build(session)
        let container = job["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first
        XCTAssertEqual(container?["image"], "ghcr.io/acme/runners/tenantry:0.1.0")
        XCTAssertEqual(container?["args"], ["runner", "--session-file", "/var/run/tenantry/session/session.json"])
        let file = try SessionFile(json: try JSON(parsing: configMap["data"]!["session.json"]!.stringValue!))
        XCTAssertEqual(file.framework.config["command"], "make test")
    }

    func testPodLabelsMatchTheRenderedRunnerEgressPolicy() throws {
        let (job, _) = try build()
        let policy = Fixture.object("NetworkPolicy", "payments-staging", "allow-runner-egress")
        let selector = try XCTUnwrap(policy["spec"]?["podSelector"]?["matchLabels"]?.objectValue)
        let labels = try XCTUnwrap(job["spec"]?["template"]?["metadata"]?["labels"]?.objectValue)
        XCTAssertFalse(selector.isEmpty)
        for (key, value) in selector.pairs { XCTAssertEqual(labels[key], value, key) }
    }

    func testResourcesAreTheLimitRangeDefaultsCappedAtItsMaximum() throws {
        let (job, _) = try build()
        let limits = Fixture.object("LimitRange", "payments-staging", "tenant-limits")["spec"]?["limits"]?.arrayValue?.first
        let resources = job["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["resources"]
        XCTAssertEqual(resources?["requests"], limits?["defaultRequest"])
        XCTAssertEqual(resources?["limits"], limits?["default"])
        var environment = Fixture.environment
        environment.containers.defaultLimit = ResourceList(cpu: Quantity("16")!, memory: Quantity("64Gi")!)
        let capped = try JobBuilder.job(Fixture.session(), policy: Fixture.policy(), environment: environment)
        XCTAssertEqual(capped["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["resources"]?["limits"], limits?["max"])
    }

    func testPodSecurityIsRestricted() throws {
        let (job, _) = try build()
        let pod = try XCTUnwrap(job["spec"]?["template"]?["spec"])
        XCTAssertEqual(pod["securityContext"]?["runAsNonRoot"], true)
        XCTAssertEqual(pod["securityContext"]?["seccompProfile"], ["type": "RuntimeDefault"])
        let container = try XCTUnwrap(pod["containers"]?.arrayValue?.first?["securityContext"])
        XCTAssertEqual(container["allowPrivilegeEscalation"], false)
        XCTAssertEqual(container["capabilities"], ["drop": ["ALL"]])
        XCTAssertEqual(container["runAsNonRoot"], true)
        // restricted allows only these volume types.
        let allowed: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]
        for volume in pod["volumes"]?.arrayValue ?? [] {
            let kinds = Set(volume.objectValue!.keys).subtracting(["name"])
            XCTAssertTrue(kinds.isSubset(of: allowed), "\(kinds)")
        }
    }

    func testTheSessionFileCarriesWhatTheRunnerNeedsAndNoSecret() throws {
        let (_, configMap) = try build()
        let text = try XCTUnwrap(configMap["data"]?["session.json"]?.stringValue)
        let file = try SessionFile(json: try JSON(parsing: text))
        XCTAssertEqual(file.model, "claude-sonnet-4-5")
        XCTAssertEqual(file.allowedTools, ["git", "shell"])
        XCTAssertEqual(file.repository, .init(url: "https://github.com/acme/payments-api.git", ref: "0123456789abcdef0123456789abcdef01234567"))
        XCTAssertEqual(file.timeoutSeconds, 14400 - JobBuilder.reportingMargin)
        XCTAssertEqual(file.artifactsURL, "https://tenantry.tenantry-system.svc:8443/api/v1/namespaces/payments-staging/sessions/gh-72d3162e/artifacts")
        XCTAssertEqual(file.outputs, ["out/report.md"])
        XCTAssertEqual(file.files.gitToken, "/var/run/secrets/git/token")
        XCTAssertEqual(file.budget, Amount("2.50"), "no ledger: the estimate")
        XCTAssertEqual(try SessionFile(json: file.json), file)
        XCTAssertFalse(text.lowercased().contains("apikey\":\"sk-"))
        // With a ledger the run may use its reservation and what the month has left.
        let ledger = BudgetLedger(month: "2026-11", monthly: Amount("5000")!, reserved: Amount("2.50")!, spent: Amount("4990")!)
        let withLedger = JobBuilder.sessionFile(Fixture.session(), policy: Fixture.policy(ledger: ledger), environment: Fixture.environment,
                                                budget: nil)
        XCTAssertNil(withLedger.budget)
        let decision = SessionMachine.reconcile(Fixture.input(Fixture.session(), policy: Fixture.policy(ledger: ledger)))
        let map = decision.actions.compactMap { if case .createConfigMap(let m) = $0 { return m }; return nil }.first
        let bounded = try SessionFile(json: try JSON(parsing: map!["data"]!["session.json"]!.stringValue!))
        XCTAssertEqual(bounded.budget, Amount("10.00"))
    }

    /// The built Job and ConfigMap against the official Kubernetes 1.32 schemas (strict: no unknown field).
    func testTheJobAndConfigMapPassStrictKubernetesValidation() throws {
        let (job, configMap) = try build()
        // kubernetes-validate reads YAML streams; JSON is YAML. One document per object keeps errors attributable.
        let stream = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-job-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: stream) }
        try Data(([job, configMap].map { JSON.object($0).prettyText }.joined(separator: "\n---\n") + "\n").utf8).write(to: stream)
        let result = try Tool.run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", "--no-warn", stream.path])
        XCTAssertEqual(result.code, 0, result.output)
        // It checks something: a misspelt field fails.
        var broken = job
        broken.update("spec") { $0.updateObject { $0["activeDeadline"] = 5 } }
        try Data(JSON.object(broken).prettyText.utf8).write(to: stream)
        XCTAssertNotEqual(try Tool.run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", stream.path]).code, 0)
    }
}
