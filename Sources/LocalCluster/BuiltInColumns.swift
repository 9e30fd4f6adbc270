import Foundation
import Model

/// The columns kube-apiserver prints for the built-in kinds (pkg/printers/internalversion), so
/// `kubectl get` reads the same against the local cluster. Priority 1 columns show with `-o wide`.
extension TableConverter {
    func builtInColumns(_ plural: String, group: String) -> [TableColumn]? {
        switch (group, plural) {
        case ("", "namespaces"):
            return [nameColumn, TableColumn("Status", "The phase of the namespace") { $0.value(at: ["status", "phase"]) ?? .null }, ageColumn]
        case ("", "configmaps"):
            return [nameColumn, TableColumn("Data", "Number of keys", type: "integer") { .int(Self.keyCount($0, ["data", "binaryData"])) }, ageColumn]
        case ("", "secrets"):
            return [nameColumn, TableColumn("Type", "The type of the secret") { $0["type"] ?? "Opaque" },
                    TableColumn("Data", "Number of keys", type: "integer") { .int(Self.keyCount($0, ["data", "stringData"])) }, ageColumn]
        case ("", "serviceaccounts"):
            return [nameColumn, TableColumn("Secrets", "Number of secrets", type: "integer") { .int($0["secrets"]?.arrayValue?.count ?? 0) }, ageColumn]
        case ("", "pods"):
            return podColumns
        case ("", "events"), ("events.k8s.io", "events"):
            return eventColumns
        case ("batch", "jobs"):
            return jobColumns
        case ("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings"):
            return bindingColumns
        case ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"), ("apiextensions.k8s.io", "customresourcedefinitions"):
            return [nameColumn, TableColumn("Created At", "Time the object was created", type: "date") { $0.value(at: ["metadata", "creationTimestamp"]) ?? .null }]
        case ("networking.k8s.io", "networkpolicies"):
            return [nameColumn, TableColumn("Pod-Selector", "The pods the policy selects") { .string(Self.selectorText($0.value(at: ["spec", "podSelector"]))) }, ageColumn]
        case ("apps", "deployments"):
            return [nameColumn,
                    TableColumn("Ready", "Ready replicas of the desired") { .string("\(Self.int($0, ["status", "readyReplicas"]))/\(Self.int($0, ["spec", "replicas"], default: 1))") },
                    TableColumn("Up-to-date", "Replicas updated to the desired state", type: "integer") { .int(Self.int($0, ["status", "updatedReplicas"])) },
                    TableColumn("Available", "Replicas available", type: "integer") { .int(Self.int($0, ["status", "availableReplicas"])) },
                    ageColumn] + workloadWideColumns(template: ["spec", "template"])
        case ("", "services"):
            return [nameColumn,
                    TableColumn("Type", "The type of the service") { $0.value(at: ["spec", "type"]) ?? "ClusterIP" },
                    TableColumn("Cluster-IP", "The cluster IP") { $0.value(at: ["spec", "clusterIP"]) ?? "<none>" },
                    TableColumn("External-IP", "External IPs") { .string(($0.value(at: ["spec", "externalIPs"])?.arrayValue?.compactMap(\.stringValue)).flatMap { $0.isEmpty ? nil : $0.joined(separator: ",") } ?? "<none>") },
                    TableColumn("Port(s)", "The ports") { object in
                        let ports = (object.value(at: ["spec", "ports"])?.arrayValue ?? []).map { port in
                            "\(Self.int(port, ["port"]))\(port["nodePort"].map { ":\($0.compactText)" } ?? "")/\(port["protocol"]?.stringValue ?? "TCP")"
                        }
                        return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                    },
                    ageColumn]
        default:
            return nil
        }
    }

    private var podColumns: [TableColumn] {
        [nameColumn,
         TableColumn("Ready", "Ready containers of all") { pod in
             let statuses = pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []
             let ready = statuses.filter { $0["ready"] == .bool(true) }.count
             return .string("\(ready)/\(pod.value(at: ["spec", "containers"])?.arrayValue?.count ?? 0)")
         },
         TableColumn("Status", "The pod's phase or the reason it is not running") { .string(Self.podStatus($0)) },
         TableColumn("Restarts", "Container restarts", type: "string") { pod in
             let statuses = pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []
             let restarts = statuses.reduce(0) { $0 + Self.int($1, ["restartCount"]) }
             let finished = statuses.compactMap { $0.value(at: ["lastState", "terminated", "finishedAt"])?.stringValue }.max()
             if restarts > 0, let finished { return .string("\(restarts) (\(age(since: finished)) ago)") }
             return .string(String(restarts))
         },
         ageColumn,
         TableColumn("IP", "The pod's IP", priority: 1) { $0.value(at: ["status", "podIP"]) ?? "<none>" },
         TableColumn("Node", "The node it runs on", priority: 1) { $0.value(at: ["spec", "nodeName"]) ?? "<none>" },
         TableColumn("Nominated Node", "The node it is nominated for", priority: 1) { $0.value(at: ["status", "nominatedNodeName"]) ?? "<none>" },
         TableColumn("Readiness Gates", "Readiness gates met", priority: 1) { pod in
             let gates = pod.value(at: ["spec", "readinessGates"])?.arrayValue ?? []
             guard !gates.isEmpty else { return "<none>" }
             let conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
             let met = gates.filter { gate in conditions.contains { $0["type"] == gate["conditionType"] && $0["status"] == "True" } }.count
             return .string("\(met)/\(gates.count)")
         }]
    }

    /// kubectl's pod status: the phase, or what keeps a container from running, or Terminating.
    private static func podStatus(_ pod: JSON) -> String {
        var reason = pod.value(at: ["status", "reason"])?.stringValue ?? pod.value(at: ["status", "phase"])?.stringValue ?? "Pending"
        for status in (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []).reversed() {
            if let waiting = status.value(at: ["state", "waiting", "reason"])?.stringValue, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = status.value(at: ["state", "terminated"]) {
                if let text = terminated["reason"]?.stringValue, !text.isEmpty {
                    reason = text
                } else if let signal = terminated["signal"], signal != .int(0) {
                    reason = "Signal:\(signal.compactText)"
                } else {
                    reason = "ExitCode:\(int(terminated, ["exitCode"]))"
                }
            }
        }
        if pod.isDeleting { reason = pod.value(at: ["status", "reason"])?.stringValue == "NodeLost" ? "Unknown" : "Terminating" }
        return reason
    }

    private var jobColumns: [TableColumn] {
        [nameColumn,
         TableColumn("Status", "The job's state") { job in
             let conditions = (job.value(at: ["status", "conditions"])?.arrayValue ?? []).filter { $0["status"] == "True" }.compactMap { $0["type"]?.stringValue }
             if conditions.contains("Complete") { return "Complete" }
             if conditions.contains("Failed") { return "Failed" }
             if job.isDeleting { return "Terminating" }
             for state in ["Suspended", "FailureTarget", "SuccessCriteriaMet"] where conditions.contains(state) { return .string(state) }
             return "Running"
         },
         TableColumn("Completions", "Succeeded of desired completions") { job in
             let succeeded = Self.int(job, ["status", "succeeded"])
             if let completions = job.value(at: ["spec", "completions"]) { return .string("\(succeeded)/\(completions.compactText)") }
             let parallelism = Self.int(job, ["spec", "parallelism"], default: 1)
             return .string(parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1")
         },
         TableColumn("Duration", "Time the job took or has run") { job in
             guard let start = job.value(at: ["status", "startTime"])?.stringValue, let started = Self.date(start) else { return "" }
             let end = job.value(at: ["status", "completionTime"])?.stringValue.flatMap(Self.date) ?? now
             return .string(Self.humanDuration(end.timeIntervalSince(started)))
         },
         ageColumn] + workloadWideColumns(template: ["spec", "template"])
    }

    /// Containers, Images and Selector, shown with -o wide.
    private func workloadWideColumns(template: [String]) -> [TableColumn] {
        let containers = { (object: JSON) in object.value(at: template + ["spec", "containers"])?.arrayValue ?? [] }
        return [TableColumn("Containers", "Container names", priority: 1) { .string(containers($0).compactMap { $0["name"]?.stringValue }.joined(separator: ",")) },
                TableColumn("Images", "Container images", priority: 1) { .string(containers($0).compactMap { $0["image"]?.stringValue }.joined(separator: ",")) },
                TableColumn("Selector", "The label selector", priority: 1) { .string(Self.selectorText($0.value(at: ["spec", "selector"]))) }]
    }

    private var bindingColumns: [TableColumn] {
        let subjects = { (binding: JSON, kind: String) -> JSON in
            let names = (binding["subjects"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == kind }.map { subject -> String in
                let name = subject["name"]?.stringValue ?? ""
                guard kind == "ServiceAccount" else { return name }
                return "\(subject["namespace"]?.stringValue ?? ""):\(name)"
            }
            return .string(names.joined(separator: ", "))
        }
        return [nameColumn,
                TableColumn("Role", "The role bound") { binding in
                    .string("\(binding.value(at: ["roleRef", "kind"])?.stringValue ?? "")/\(binding.value(at: ["roleRef", "name"])?.stringValue ?? "")")
                },
                ageColumn,
                TableColumn("Users", "Users bound", priority: 1) { subjects($0, "User") },
                TableColumn("Groups", "Groups bound", priority: 1) { subjects($0, "Group") },
                TableColumn("ServiceAccounts", "Service accounts bound", priority: 1) { subjects($0, "ServiceAccount") }]
    }

    /// Events print from their core v1 form (events.k8s.io ones are converted first), as kube-apiserver does.
    private var eventColumns: [TableColumn] {
        let core = { (event: JSON) in StoredForm.stored(event, as: type) }
        let firstSeen = { (event: JSON) -> String in
            let event = core(event)
            let time = event["firstTimestamp"]?.stringValue ?? event["eventTime"]?.stringValue
            return time.map { age(since: $0) } ?? "<unknown>"
        }
        return [TableColumn("Last Seen", "Time since the event was last seen") { event in
                    let event = core(event)
                    if let seen = event.value(at: ["series", "lastObservedTime"])?.stringValue ?? event["lastTimestamp"]?.stringValue { return .string(age(since: seen)) }
                    return .string(firstSeen(event))
                },
                TableColumn("Type", "Normal or Warning") { core($0)["type"] ?? "" },
                TableColumn("Reason", "Why the event happened") { core($0)["reason"] ?? "" },
                TableColumn("Object", "What the event is about") { event in
                    let involved = core(event)["involvedObject"]
                    let kind = (involved?["kind"]?.stringValue ?? "").lowercased()
                    let name = involved?["name"]?.stringValue ?? ""
                    return .string(name.isEmpty ? kind : "\(kind)/\(name)")
                },
                TableColumn("Subobject", "The field of the object", priority: 1) { core($0).value(at: ["involvedObject", "fieldPath"]) ?? "" },
                TableColumn("Source", "Who reported the event", priority: 1) { event in
                    let event = core(event)
                    if let component = event.value(at: ["source", "component"])?.stringValue, !component.isEmpty {
                        let host = event.value(at: ["source", "host"])?.stringValue ?? ""
                        return .string(host.isEmpty ? component : "\(component), \(host)")
                    }
                    let controller = event["reportingComponent"]?.stringValue ?? ""
                    let instance = event["reportingInstance"]?.stringValue ?? ""
                    return .string(instance.isEmpty ? controller : "\(controller), \(instance)")
                },
                TableColumn("Message", "What happened") { .string((core($0)["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) },
                TableColumn("First Seen", "Time since the event was first seen", priority: 1) { .string(firstSeen($0)) },
                TableColumn("Count", "How many times it happened", type: "integer", priority: 1) { event in
                    let event = core(event)
                    if let count = event.value(at: ["series", "count"]) { return count }
                    let count = Self.int(event, ["count"])
                    return .int(count == 0 ? 1 : count)
                },
                TableColumn("Name", "Name of the event", priority: 1) { .string($0.name) }]
    }

    static func int(_ object: JSON, _ path: [String], default fallback: Int = 0) -> Int {
        if case .int(let value)? = object.value(at: path) { return value }
        return fallback
    }

    /// metav1.FormatLabelSelector: `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, sorted by key; `<none>` when empty.
    static func selectorText(_ selector: JSON?) -> String {
        var requirements: [(String, String)] = []
        for (key, value) in selector?["matchLabels"]?.objectValue?.pairs ?? JSONObject().pairs {
            requirements.append((key, "\(key)=\(value.stringValue ?? "")"))
        }
        for expression in selector?["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []).sorted().joined(separator: ",")
            switch expression["operator"]?.stringValue {
            case "In": requirements.append((key, "\(key) in (\(values))"))
            case "NotIn": requirements.append((key, "\(key) notin (\(values))"))
            case "Exists": requirements.append((key, key))
            case "DoesNotExist": requirements.append((key, "!\(key)"))
            default: break
            }
        }
        let text = requirements.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ",")
        return text.isEmpty ? "<none>" : text
    }
}
