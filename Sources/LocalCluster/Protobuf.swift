import Foundation
import Model

/// Reads the protobuf bodies kubectl's generators send (`kubectl create namespace|configmap|secret|
/// serviceaccount|role|rolebinding|clusterrole|clusterrolebinding|job`, `kubectl run`), and those of `kubectl auth`
/// and `kubectl create token` (the review kinds, TokenRequest), into the JSON the server stores or answers.
/// Only those kinds, and only the fields a client sets, are known; anything else is 415.
enum KubeProtobuf {
    /// `k8s\0` then a runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object).
    static func decode(_ body: Data) throws(APIError) -> JSON {
        let bytes = [UInt8](body)
        guard bytes.starts(with: [0x6B, 0x38, 0x73, 0x00]) else { throw unsupported("the body does not start with the k8s protobuf magic") }
        let envelope = try fields(Array(bytes[4...]))
        let typeMeta = try fields(envelope.first { $0.number == 1 }?.bytes ?? [])
        let apiVersion = typeMeta.first { $0.number == 1 }.map { text($0.bytes) } ?? ""
        let kind = typeMeta.first { $0.number == 2 }.map { text($0.bytes) } ?? ""
        guard let schema = kinds[kind] else { throw unsupported("kind \(kind) is not one the local cluster reads as protobuf") }
        var object = try message(envelope.first { $0.number == 2 }?.bytes ?? [], schema).objectValue ?? JSONObject()
        object = JSONObject([("apiVersion", .string(apiVersion)), ("kind", .string(kind))] + object.pairs.map { ($0.0, $0.1) })
        return .object(object)
    }

    private indirect enum Field {
        case string(String)
        case bool(String)
        case integer(String)
        case strings(String)
        case stringMap(String)
        case bytesMap(String)
        case message(String, [Int: Field])
        case messages(String, [Int: Field])
    }

    private static let objectMeta: [Int: Field] = [
        1: .string("name"), 2: .string("generateName"), 3: .string("namespace"), 11: .stringMap("labels"),
        12: .stringMap("annotations"), 14: .strings("finalizers"),
    ]
    private static let subject: [Int: Field] = [1: .string("kind"), 2: .string("apiGroup"), 3: .string("name"), 4: .string("namespace")]
    private static let roleRef: [Int: Field] = [1: .string("apiGroup"), 2: .string("kind"), 3: .string("name")]
    private static let policyRule: [Int: Field] = [1: .strings("verbs"), 2: .strings("apiGroups"), 3: .strings("resources"),
                                                   4: .strings("resourceNames"), 5: .strings("nonResourceURLs")]
    private static let envVar: [Int: Field] = [1: .string("name"), 2: .string("value")]
    private static let container: [Int: Field] = [
        1: .string("name"), 2: .string("image"), 3: .strings("command"), 4: .strings("args"), 5: .string("workingDir"),
        7: .messages("env", envVar), 13: .string("terminationMessagePath"), 14: .string("imagePullPolicy"),
        16: .bool("stdin"), 17: .bool("stdinOnce"), 18: .bool("tty"), 20: .string("terminationMessagePolicy"),
    ]
    private static let podSpec: [Int: Field] = [
        2: .messages("containers", container), 3: .string("restartPolicy"), 4: .integer("terminationGracePeriodSeconds"),
        5: .integer("activeDeadlineSeconds"), 6: .string("dnsPolicy"), 7: .stringMap("nodeSelector"), 8: .string("serviceAccountName"),
        10: .string("nodeName"), 20: .messages("initContainers", container),
    ]
    private static let jobSpec: [Int: Field] = [
        1: .integer("parallelism"), 2: .integer("completions"), 3: .integer("activeDeadlineSeconds"), 5: .bool("manualSelector"),
        6: .message("template", [1: .message("metadata", objectMeta), 2: .message("spec", podSpec)]),
        7: .integer("backoffLimit"), 8: .integer("ttlSecondsAfterFinished"), 9: .string("completionMode"), 10: .bool("suspend"),
    ]
    private static let kinds: [String: [Int: Field]] = [
        "Pod": [1: .message("metadata", objectMeta), 2: .message("spec", podSpec)],
        "Job": [1: .message("metadata", objectMeta), 2: .message("spec", jobSpec)],
        "Namespace": [1: .message("metadata", objectMeta), 2: .message("spec", [1: .strings("finalizers")])],
        "ConfigMap": [1: .message("metadata", objectMeta), 2: .stringMap("data"), 3: .bytesMap("binaryData"), 4: .bool("immutable")],
        "Secret": [1: .message("metadata", objectMeta), 2: .bytesMap("data"), 3: .string("type"), 4: .stringMap("stringData"), 5: .bool("immutable")],
        "ServiceAccount": [1: .message("metadata", objectMeta), 3: .messages("imagePullSecrets", [1: .string("name")]),
                           4: .bool("automountServiceAccountToken")],
        "Role": [1: .message("metadata", objectMeta), 2: .messages("rules", policyRule)],
        "ClusterRole": [1: .message("metadata", objectMeta), 2: .messages("rules", policyRule)],
        "RoleBinding": [1: .message("metadata", objectMeta), 2: .messages("subjects", subject), 3: .message("roleRef", roleRef)],
        "ClusterRoleBinding": [1: .message("metadata", objectMeta), 2: .messages("subjects", subject), 3: .message("roleRef", roleRef)],
        "TokenRequest": [1: .message("metadata", objectMeta), 2: .message("spec", [
            1: .strings("audiences"), 4: .integer("expirationSeconds"),
            3: .message("boundObjectRef", [1: .string("kind"), 2: .string("apiVersion"), 3: .string("name"), 4: .string("uid")]),
        ])],
        "TokenReview": [1: .message("metadata", objectMeta), 2: .message("spec", [1: .string("token"), 2: .strings("audiences")])],
        "SelfSubjectReview": [1: .message("metadata", objectMeta)],
        "SelfSubjectAccessReview": [1: .message("metadata", objectMeta), 2: .message("spec", accessAttributes)],
        "SelfSubjectRulesReview": [1: .message("metadata", objectMeta), 2: .message("spec", [1: .string("namespace")])],
        "SubjectAccessReview": [1: .message("metadata", objectMeta), 2: .message("spec", subjectAccess)],
        "LocalSubjectAccessReview": [1: .message("metadata", objectMeta), 2: .message("spec", subjectAccess)],
    ]
    private static let accessAttributes: [Int: Field] = [
        1: .message("resourceAttributes", [1: .string("namespace"), 2: .string("verb"), 3: .string("group"), 4: .string("version"),
                                           5: .string("resource"), 6: .string("subresource"), 7: .string("name")]),
        2: .message("nonResourceAttributes", [1: .string("path"), 2: .string("verb")]),
    ]
    private static let subjectAccess: [Int: Field] = accessAttributes.merging([3: .string("user"), 4: .strings("groups"), 6: .string("uid")]) { $1 }

    /// One message as JSON. Protobuf writes empty strings and zeros that JSON would omit; they are dropped.
    private static func message(_ bytes: [UInt8], _ schema: [Int: Field]) throws(APIError) -> JSON {
        var object = JSONObject()
        for field in try fields(bytes) {
            switch schema[field.number] {
            case .string(let name)?:
                let value = text(field.bytes)
                if !value.isEmpty { object[name] = .string(value) }
            case .bool(let name)?:
                if field.varint != 0 { object[name] = .bool(true) }
            case .integer(let name)?:
                object[name] = .int(Int(truncatingIfNeeded: Int64(bitPattern: field.varint)))
            case .strings(let name)?:
                object[name] = .array((object[name]?.arrayValue ?? []) + [.string(text(field.bytes))])
            case .stringMap(let name)?, .bytesMap(let name)?:
                let entry = try fields(field.bytes)
                let key = entry.first { $0.number == 1 }.map { text($0.bytes) } ?? ""
                let raw = entry.first { $0.number == 2 }?.bytes ?? []
                var map = object[name]?.objectValue ?? JSONObject()
                if case .bytesMap? = schema[field.number] {
                    map[key] = .string(Data(raw).base64EncodedString())
                } else {
                    map[key] = .string(text(raw))
                }
                object[name] = .object(map)
            case .message(let name, let inner)?:
                let value = try message(field.bytes, inner)
                if value.objectValue?.isEmpty == false { object[name] = value }
            case .messages(let name, let inner)?:
                object[name] = .array((object[name]?.arrayValue ?? []) + [try message(field.bytes, inner)])
            case nil:
                continue
            }
        }
        return .object(object)
    }

    private struct WireField {
        var number: Int
        var varint: UInt64 = 0
        var bytes: [UInt8] = []
    }

    /// The fields of one message, in wire order (varints and length-delimited; fixed widths skipped).
    private static func fields(_ bytes: [UInt8]) throws(APIError) -> [WireField] {
        var index = bytes.startIndex
        var result: [WireField] = []
        func varint() throws(APIError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.endIndex, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            throw unsupported("truncated protobuf varint")
        }
        while index < bytes.endIndex {
            let key = try varint()
            var field = WireField(number: Int(key >> 3))
            switch key & 7 {
            case 0: field.varint = try varint()
            case 2:
                let length = Int(try varint())
                guard length >= 0, bytes.endIndex - index >= length else { throw unsupported("truncated protobuf field") }
                field.bytes = Array(bytes[index..<index + length])
                index += length
            case 1: index += 8
            case 5: index += 4
            default: throw unsupported("unknown protobuf wire type \(key & 7)")
            }
            result.append(field)
        }
        return result
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func unsupported(_ why: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType",
                 message: "the local cluster cannot read this protobuf body (\(why)): send JSON instead, for example with `kubectl apply --server-side -f` or `kubectl create -f`")
    }
}
