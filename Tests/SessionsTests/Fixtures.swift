import Foundation
import Model
import Render
import TestSupport
@testable import Sessions

/// The example repo rendered once, and sessions and policies built from it.
enum Fixture {
    static let rendered = Renderer.render(try! RepoValidator.validate(try! RepoLoader.load(PackagePaths.examples.path)))
    static let created = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29T…Z

    /// A rendered object of the example repo.
    static func object(_ kind: String, _ namespace: String?, _ name: String) -> JSONObject {
        rendered.manifests.first { $0.reference.kind == kind && $0.reference.namespace == namespace && $0.reference.name == name }!.object
    }

    /// The rendered NamespacePolicy of `namespace`, as the cluster would return it (with a resourceVersion and, when
    /// given, a ledger in its status).
    /// The example tenant requires approval everywhere; `approval: false` (the default) drops that so the common
    /// path needs none, `nil` keeps the rendered policy.
    static func policy(_ namespace: String = "payments-staging", approval: Bool? = false, ledger: BudgetLedger? = nil,
                       edit: (inout JSONObject) -> Void = { _ in }) -> PolicySnapshot {
        var object = Self.object("NamespacePolicy", namespace, "policy")
        object.update("metadata") { $0.updateObject { $0["resourceVersion"] = "42" } }
        if let ledger { object["status"] = ["budget": ledger.json] }
        var spec = object["spec"]!.objectValue!
        if let approval { spec.update("approval") { $0.updateObject { $0["required"] = .bool(approval) } } }
        edit(&spec)
        object["spec"] = .object(spec)
        return try! PolicySnapshot(object: object)
    }

    static var environment: RunnerEnvironment {
        RunnerEnvironment(runners: rendered.platform.runners,
                          apiURL: "https://tenantry.tenantry-system.svc:8443", gitCredentialsSecret: "git-credentials",
                          containers: rendered.platform.defaults.containers)
    }

    static func session(name: String = "gh-72d3162e", namespace: String = "payments-staging", model: String = "claude-sonnet-4-5",
                        tools: [String] = ["git", "shell"], approvalRequired: Bool = false,
                        framework: Session.Framework? = nil) -> SessionObject {
        SessionObject(
            name: name, namespace: namespace, uid: "6f1c0d1e-0000-4000-8000-000000000001", generation: 1, creationTimestamp: created,
            trigger: .init(source: .github, event: "issues.labeled", deliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                           payload: ["repository": "acme/payments-api", "number": 42, "title": "Fix rounding", "headSha": "0123456789abcdef0123456789abcdef01234567"]),
            framework: framework ?? .init(type: "claude-code", version: "1.5.2", config: ["model": .string(model)]),
            constraints: .init(allowedModels: ["claude-sonnet-4-5", "claude-opus-4-1"], budget: Amount("5000"), allowedTools: tools,
                               approvalRequired: approvalRequired),
            artifactReferences: ["out/report.md"])
    }

    static func input(_ session: SessionObject, policy: PolicySnapshot? = Fixture.policy(), job: ObservedJob? = nil, pod: ObservedPod? = nil,
                      pricing: ModelOffer.Pricing? = nil, at seconds: TimeInterval = 60) -> SessionMachine.Input {
        SessionMachine.Input(session: session, policy: policy, job: job, pod: pod, estimatedCost: Amount("2.50")!, pricing: pricing,
                             environment: environment, now: created.addingTimeInterval(seconds))
    }

    /// The session after `decision`: the status the controller would have written.
    static func applying(_ decision: SessionMachine.Decision, to session: SessionObject) -> SessionObject {
        var next = session
        next.status = decision.status
        return next
    }

    static func job(_ session: SessionObject, complete: Bool = false, failedReason: String? = nil) -> ObservedJob {
        ObservedJob(name: JobBuilder.jobName(for: session.name), ownerUID: session.uid, active: complete || failedReason != nil ? 0 : 1,
                    succeeded: complete ? 1 : 0, failed: failedReason == nil ? 0 : 1, complete: complete, failedReason: failedReason)
    }

    static let podName = "gh-72d3162e-run-x7k2p"
}

extension SessionMachine.Decision {
    var createdJobs: [JSONObject] { actions.compactMap { if case .createJob(let job) = $0 { return job }; return nil } }
    var events: [SessionEvent] { actions.compactMap { if case .recordEvent(let event) = $0 { return event }; return nil } }
    var deletedJobs: [String] { actions.compactMap { if case .deleteJob(let name) = $0 { return name }; return nil } }
    var budgetActions: [SessionMachine.Action] {
        actions.filter { if case .settleBudget = $0 { return true }; if case .releaseBudget = $0 { return true }; return false }
    }
}
