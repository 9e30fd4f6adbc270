import Foundation
import Model

/// ResourceQuota admission for the creates that quotas most often stop, Pods and Jobs, as kube-apiserver's
/// ResourceQuota plugin does: a create that would take the namespace past any quota's `spec.hard` is refused
/// with 403 Forbidden, `pods "x" is forbidden: exceeded quota: NAME, requested: R, used: U, limited: L`
/// (only the resources that overflow, sorted, `name=value` joined by commas). Usage is counted from the store
/// in the same transaction as the write, so two creates cannot both take the last unit.
///
/// Tracked: `pods` and `count/pods` (Pods not Succeeded or Failed), `count/jobs.batch`, and the compute
/// resources of Pods (`requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`; `cpu`/`memory` mean
/// requests), summed over containers. Differences: a Pod without a request for a tracked resource counts as 0
/// (kube-apiserver refuses it, "must specify"); other object counts (`count/sessions.ambient.ai`, configmaps,
/// secrets, …) are not enforced; `status.used` is not written.
enum QuotaAdmission {
    static let resourceQuotas = ResourceType.builtIn("resourcequotas")

    static func check(_ type: ResourceType, _ object: JSON, _ transaction: StoreTransaction) throws {
        guard type == .pods || type == .jobs, !object.namespace.isEmpty else { return }
        let quotas = try transaction.list(resourceQuotas, namespace: object.namespace, after: nil, limit: 10_000)
        guard !quotas.isEmpty else { return }
        let requested = usage(type, object)
        var used: [String: Double]?
        for quota in quotas {
            let hard = (quota.value(at: ["spec", "hard"])?.objectValue ?? [:]).pairs.compactMap { name, value -> (String, Quantity)? in
                guard let text = value.stringValue ?? (value.intValue.map { String($0) }), let quantity = Quantity(text) else { return nil }
                return (name, quantity)
            }
            let tracked = hard.filter { requested[$0.0] != nil }
            guard !tracked.isEmpty else { continue }
            if used == nil { used = try namespaceUsage(type, namespace: object.namespace, transaction) }
            let over = tracked.filter { name, limit in (used![name] ?? 0) + requested[name]! > limit.value + 1e-9 }.sorted { $0.0 < $1.0 }
            guard !over.isEmpty else { continue }
            func list(_ value: (String) -> String) -> String { over.map { "\($0.0)=\(value($0.0))" }.joined(separator: ",") }
            let limited = Dictionary(over.map { ($0.0, $0.1.text) }, uniquingKeysWith: { a, _ in a })
            throw APIError(code: 403, reason: "Forbidden",
                           message: "\(type.qualifiedName) \"\(object.name)\" is forbidden: exceeded quota: \(quota.name), "
                               + "requested: \(list { format(requested[$0]!, $0) }), used: \(list { format(used![$0] ?? 0, $0) }), limited: \(list { limited[$0]! })",
                           details: APIError.details(type, name: object.name))
        }
    }

    /// What one object takes of each quota resource.
    static func usage(_ type: ResourceType, _ object: JSON) -> [String: Double] {
        if type == .jobs { return ["count/jobs.batch": 1] }
        var usage: [String: Double] = ["pods": 1, "count/pods": 1]
        for container in object.value(at: ["spec", "containers"])?.arrayValue ?? [] {
            for (kind, prefix) in [("requests", "requests."), ("limits", "limits.")] {
                for resource in ["cpu", "memory"] {
                    guard let text = container.value(at: ["resources", kind, resource])?.stringValue, let quantity = Quantity(text) else { continue }
                    usage[prefix + resource, default: 0] += quantity.value
                    if kind == "requests" { usage[resource, default: 0] += quantity.value }
                }
            }
        }
        for key in ["requests.cpu", "requests.memory", "cpu", "memory", "limits.cpu", "limits.memory"] where usage[key] == nil { usage[key] = 0 }
        return usage
    }

    /// What the namespace's objects of `type` take now (Pods that ended take nothing): Jobs are counted by the
    /// store, and only live Pods are read.
    static func namespaceUsage(_ type: ResourceType, namespace: String, _ transaction: StoreTransaction) throws -> [String: Double] {
        if type == .jobs { return ["count/jobs.batch": Double(try transaction.count(type, namespace: namespace))] }
        var total: [String: Double] = [:]
        for object in try transaction.list(type, namespace: namespace, phaseNotIn: ["Succeeded", "Failed"]) {
            for (name, value) in usage(type, object) { total[name, default: 0] += value }
        }
        return total
    }

    /// A usage as kube-apiserver prints it: counts as integers, CPU in cores or millicores, memory in bytes or binary units.
    static func format(_ value: Double, _ resource: String) -> String {
        if resource.hasSuffix("cpu") {
            let millis = Int((value * 1000).rounded())
            return millis % 1000 == 0 ? String(millis / 1000) : "\(millis)m"
        }
        if resource.hasSuffix("memory") {
            let bytes = Int64(value.rounded())
            for (suffix, factor) in [("Gi", Int64(1) << 30), ("Mi", Int64(1) << 20), ("Ki", Int64(1) << 10)] where bytes != 0 && bytes % factor == 0 {
                return "\(bytes / factor)\(suffix)"
            }
            return String(bytes)
        }
        return String(Int(value.rounded()))
    }
}
