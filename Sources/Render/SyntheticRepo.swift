import Foundation

/// A generated tenant repo of realistic shape, for benchmarks and scale tests.
public enum SyntheticRepo {
    /// `namespacesPerTenant`: each tenant gets exactly this many namespaces (else one to three, by index).
    public static func write(tenants count: Int, to directory: URL, namespacesPerTenant: Int? = nil) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: directory)
        let tenants = directory.appendingPathComponent("tenants")
        try fm.createDirectory(at: tenants, withIntermediateDirectories: true)
        try Data(platform.utf8).write(to: directory.appendingPathComponent("platform.yaml"))
        for index in 0..<count {
            let name = String(format: "t%05d", index)
            try Data(tenant(name, index: index, namespaces: namespacesPerTenant ?? 1 + index % 3).utf8).write(to: tenants.appendingPathComponent(name + ".yaml"))
        }
    }

    static let platform = """
    apiVersion: tenantry.dev/v1alpha1
    kind: Platform
    name: bench
    models:
      - name: model-large
        pricing: {perSession: "2.50"}
      - name: model-small
        pricing: {per1kTokens: "0.004"}
    budget: {currency: USD, maxMonthly: "50000.00"}
    tools: [git, shell, edit, web-fetch]
    reservedNamespaces: ["kube-*", default, tenantry-system]
    runners:
      - type: claude-code
        image: registry.example.com/runners/claude-code
        versions: ["1.4.0", "1.5.2"]
    webhookSources: [github, jira, slack, generic]
    limits: {maxConcurrentSessions: 50, maxSessionTimeout: 24h, maxSessionsPerMinute: 60}
    defaults:
      maxConcurrentSessions: 5
      sessionTimeout: 2h
      sessionsPerMinute: 10
      retention: {sessions: 90d, artifacts: 30d, auditLogs: 7y}
      quotas: {cpu: "8", memory: 16Gi, pods: 20, sessions: 50}
      containers:
        defaultRequest: {cpu: 250m, memory: 512Mi}
        default: {cpu: "1", memory: 2Gi}
        max: {cpu: "4", memory: 8Gi}

    """

    static func tenant(_ name: String, index: Int, namespaces count: Int) -> String {
        let namespaces = (0..<count).map { "  - name: \(name)-ns\($0)\n" }.joined()
        return """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: \(name)
        namespaces:
        \(namespaces)members:
          - user: lead-\(name)@example.com
            role: admin
          - group: \(name)-devs
            role: editor
          - group: \(name)-readers
            role: viewer
        policy:
          models: {allowed: [model-large, model-small]}
          budget: {monthly: "1000.00"}
          tools: {allowed: [git, shell, edit]}
        routing:
          github:
            - repository: example/\(name)-service
          slack:
            - channel: C\(String(format: "%08d", index))
        triggers:
          github:
            issueLabels: [agent]
            comment: {command: /agent}

        """
    }
}
