import Foundation
import Model
import Render
import Support

/// Everything the webhook side needs from one rendered revision of the tenant repo: which repository,
/// project or channel belongs to which tenant namespace, which API key hash resolves to which namespace,
/// each namespace's NamespacePolicy (triggers included), each tenant's monthly budget, and model prices.
/// Immutable: a new revision builds a new table and the service swaps it in whole.
public struct TenantTable: Sendable {
    /// Where an API key hash, or a route, points.
    public struct Target: Sendable, Hashable {
        public let tenant: String
        public let namespace: String
    }

    public let revision: String
    public let platform: Platform
    /// Per namespace, its policy as rendered into the NamespacePolicy object.
    public let policies: [String: NamespacePolicy]
    /// Per namespace, the tenant that owns it.
    public let tenantOfNamespace: [String: String]
    /// Per tenant, the monthly budget every namespace of the tenant draws on.
    public let budgets: [String: Budget]
    /// Per source, route key (GitHub `owner/repo` lower-cased, Jira project key, Slack channel ID) → target.
    public let routes: [WebhookSource: [String: Target]]
    /// `sha256:<hex>` → source and target.
    public let apiKeys: [String: (source: WebhookSource, target: Target)]
    /// Tenant files left out of the table because they are invalid (their names).
    public let invalidTenants: [String]
    /// Tokens assumed per session when a model is priced per 1,000 tokens.
    public let estimatedTokensPerSession: Int64

    public init(rendered: RenderedRepo, revision: String, estimatedTokensPerSession: Int64 = 100_000) {
        self.revision = revision
        platform = rendered.platform
        self.estimatedTokensPerSession = estimatedTokensPerSession
        var policies: [String: NamespacePolicy] = [:]
        var tenantOfNamespace: [String: String] = [:]
        var budgets: [String: Budget] = [:]
        var routes: [WebhookSource: [String: Target]] = [:]
        var apiKeys: [String: (source: WebhookSource, target: Target)] = [:]
        for result in rendered.tenants {
            guard let tenant = result.tenant else { continue }
            budgets[tenant.name] = tenant.policy.budget
            for namespace in tenant.namespaces {
                policies[namespace.name] = NamespacePolicy(tenant: tenant, namespace: namespace, platform: rendered.platform)
                tenantOfNamespace[namespace.name] = tenant.name
                for (source, hash) in namespace.apiKeyHashes {
                    apiKeys[hash] = (source, Target(tenant: tenant.name, namespace: namespace.name))
                }
            }
            for route in tenant.routing.github {
                routes[.github, default: [:]][route.key.lowercased()] = Target(tenant: tenant.name, namespace: route.namespace)
            }
            for route in tenant.routing.jira {
                routes[.jira, default: [:]][route.key] = Target(tenant: tenant.name, namespace: route.namespace)
            }
            for route in tenant.routing.slack {
                routes[.slack, default: [:]][route.key] = Target(tenant: tenant.name, namespace: route.namespace)
            }
        }
        self.policies = policies
        self.tenantOfNamespace = tenantOfNamespace
        self.budgets = budgets
        self.routes = routes
        self.apiKeys = apiKeys
        invalidTenants = rendered.invalidTenants.map(\.name)
    }

    /// Loads, validates and renders the tenant repo at `repo`, as `tenantry render` does. A broken
    /// platform.yaml throws (nothing can be served); invalid tenants are left out and listed.
    public static func load(repo: String, revision: String? = nil, estimatedTokensPerSession: Int64 = 100_000) throws -> TenantTable {
        let loaded = try RepoLoader.load(repo)
        let validated = try RepoValidator.validate(loaded)
        let rendered = Renderer.render(validated)
        return TenantTable(rendered: rendered, revision: revision ?? "local", estimatedTokensPerSession: estimatedTokensPerSession)
    }

    /// The estimated cost of one session on `model`: its per-session price, or its per-1k-token price times
    /// the assumed tokens per session. Nil for a model the platform does not offer.
    public func estimatedCost(model: String) -> Amount? {
        guard let offer = platform.model(named: model) else { return nil }
        switch offer.pricing {
        case .perSession(let amount): return amount
        case .per1kTokens(let amount): return Amount(micros: amount.micros * estimatedTokensPerSession / 1000)
        }
    }
}
