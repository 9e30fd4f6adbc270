import Foundation
import Model

/// A container's environment and command, resolved from the Pod spec as the kubelet resolves them:
/// `env` values with `$(VAR)` references, `valueFrom` (Secret and ConfigMap keys, `fieldRef`),
/// `envFrom`, on top of the variables every container gets here. Pure: objects come through `lookup`.
struct PodEnvironment {
    /// Reads a ConfigMap's or Secret's data (`kind` is "ConfigMap" or "Secret"; Secret values decoded).
    typealias Lookup = (_ kind: String, _ name: String) throws -> [String: String]?

    struct ConfigError: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// `$(NAME)` expands to a defined variable, `$$` is a literal `$`; anything else is left as written.
    static func expand(_ text: String, _ variables: [String: String]) -> String {
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else { out.append(character); index = next; continue }
            if text[next] == "$" { out.append("$"); index = text.index(after: next); continue }
            if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                let name = String(text[text.index(after: next)..<close])
                if let value = variables[name] { out += value; index = text.index(after: close); continue }
            }
            out.append(character)
            index = next
        }
        return out
    }

    /// The environment, in order, later entries replacing earlier ones of the same name.
    static func variables(container: JSON, pod: JSON, base: [(String, String)], lookup: Lookup) throws -> [(String, String)] {
        var names: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { names.append(name) }
            values[name] = value
        }
        for (name, value) in base { set(name, value) }
        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            for (kind, field) in [("ConfigMap", "configMapRef"), ("Secret", "secretRef")] {
                guard let reference = source[field], let name = reference["name"]?.stringValue else { continue }
                guard let data = try lookup(kind, name) else {
                    if reference["optional"] == .bool(true) { continue }
                    throw ConfigError(message: "\(kind.lowercased()) \"\(name)\" not found")
                }
                for key in data.keys.sorted() { set(prefix + key, data[key]!) }
            }
        }
        for entry in container["env"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue else { continue }
            if let value = entry["value"]?.stringValue {
                set(name, expand(value, values))
            } else if let from = entry["valueFrom"] {
                if let value = try valueFrom(from, pod: pod, lookup: lookup) { set(name, value) }
            } else {
                set(name, "")
            }
        }
        return names.map { ($0, values[$0]!) }
    }

    private static func valueFrom(_ from: JSON, pod: JSON, lookup: Lookup) throws -> String? {
        for (kind, field) in [("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")] {
            guard let reference = from[field] else { continue }
            let name = reference["name"]?.stringValue ?? ""
            let key = reference["key"]?.stringValue ?? ""
            let optional = reference["optional"] == .bool(true)
            guard let data = try lookup(kind, name) else {
                if optional { return nil }
                throw ConfigError(message: "\(kind.lowercased()) \"\(name)\" not found")
            }
            guard let value = data[key] else {
                if optional { return nil }
                throw ConfigError(message: "couldn't find key \(key) in \(kind) \(pod.namespace)/\(name)")
            }
            return value
        }
        if let path = from["fieldRef"]?["fieldPath"]?.stringValue {
            guard let value = fieldValue(path, pod: pod) else {
                throw ConfigError(message: "unsupported fieldRef fieldPath \"\(path)\": use metadata.name, metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], spec.serviceAccountName, spec.nodeName, status.podIP or status.hostIP")
            }
            return value
        }
        throw ConfigError(message: "unsupported valueFrom: the local cluster resolves configMapKeyRef, secretKeyRef and fieldRef")
    }

    static func fieldValue(_ path: String, pod: JSON) -> String? {
        for (prefix, field) in [("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")] where path.hasPrefix(prefix) && path.hasSuffix("']") {
            let key = String(path.dropFirst(prefix.count).dropLast(2))
            return pod.value(at: ["metadata", field, key])?.stringValue ?? ""
        }
        switch path {
        case "metadata.name": return pod.name
        case "metadata.namespace": return pod.namespace
        case "metadata.uid": return pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        case "spec.serviceAccountName": return pod.value(at: ["spec", "serviceAccountName"])?.stringValue ?? "default"
        case "spec.nodeName": return pod.value(at: ["spec", "nodeName"])?.stringValue ?? Kubelet.nodeName
        case "status.podIP", "status.hostIP": return "127.0.0.1"
        default: return nil
        }
    }

    /// The command line a container runs: `command` (else nothing: no image entrypoint is known) + `args`,
    /// each with `$(VAR)` expanded. Returns nil when there is no command.
    static func commandLine(_ container: JSON, _ variables: [String: String]) -> [String]? {
        let command = (container["command"]?.arrayValue ?? []).compactMap(\.stringValue).map { expand($0, variables) }
        let arguments = (container["args"]?.arrayValue ?? []).compactMap(\.stringValue).map { expand($0, variables) }
        guard !command.isEmpty else { return nil }
        return command + arguments
    }
}

extension PodEnvironment {
    /// A ConfigMap's `data` (and `binaryData`), or a Secret's `data` decoded from base64.
    static func data(of object: JSON, secret: Bool) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in object["data"]?.objectValue?.pairs ?? JSONObject().pairs {
            guard let text = value.stringValue else { continue }
            values[key] = secret ? Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? "" : text
        }
        if !secret {
            for (key, value) in object["binaryData"]?.objectValue?.pairs ?? JSONObject().pairs {
                values[key] = value.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
        }
        return values
    }
}
