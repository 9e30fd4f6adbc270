import Foundation
import HTTPServer
import Model
import Support

/// What happens to fields the schema does not know: dropped silently, dropped with a Warning header,
/// or refused with 400 BadRequest.
enum FieldValidation: String, Sendable {
    case ignore = "Ignore"
    case warn = "Warn"
    case strict = "Strict"
}

/// The parts of a write request every verb reads: body, dry run, field manager, validation mode.
struct WriteRequest {
    var body: JSON?
    var dryRun: Bool
    var manager: String
    var fieldValidation: FieldValidation
    var now: String

    init(_ request: Request, requireBody: Bool, managerRequired: Bool = false) throws(APIError) {
        if (request.headers["content-type"] ?? "").contains("protobuf") {
            body = try KubeProtobuf.decode(request.body)
        } else if request.body.isEmpty || request.body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            if requireBody { throw APIError.badRequest("the request body is empty: send the object as JSON") }
            body = nil
        } else {
            body = try Self.decode(request)
        }
        var dryRunValues = request.query["dryRun"].map { [$0] } ?? []
        dryRunValues += body?["dryRun"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for value in dryRunValues where value != "All" {
            throw APIError.badRequest("invalid dryRun value \"\(value)\": the only supported value is All")
        }
        dryRun = !dryRunValues.isEmpty
        let explicitManager = request.query["fieldManager"] ?? ""
        if managerRequired, explicitManager.isEmpty {
            throw APIError(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                           causes: [APIError.Cause(reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager")])
        }
        // Kubernetes names an unnamed manager after the client: "kubectl/v1.32 (linux/amd64)" → "kubectl".
        let agent = request.headers["user-agent"].flatMap { $0.split(separator: "/").first.map(String.init) } ?? ""
        manager = explicitManager.isEmpty ? (agent.isEmpty ? "unknown" : agent) : explicitManager
        // Absent means Warn, as kube-apiserver defaults it; kubectl sends Strict (its --validate=strict).
        let validation = request.query["fieldValidation"] ?? ""
        guard let mode = validation.isEmpty ? .warn : FieldValidation(rawValue: validation) else {
            throw APIError.badRequest("invalid fieldValidation value \"\(validation)\": use Ignore, Warn or Strict")
        }
        fieldValidation = mode
        now = Self.timestamp(Date())
    }

    /// Kubernetes timestamps: Support's one RFC 3339 form, UTC, whole seconds.
    static func timestamp(_ date: Date) -> String { Timestamp.rfc3339(date) }

    /// JSON, or for apply-patch+yaml any YAML document (kubectl sends JSON, which is YAML too).
    private static func decode(_ request: Request) throws(APIError) -> JSON {
        let jsonError: JSONParseError
        do {
            return try JSON(parsing: request.body)
        } catch {
            jsonError = error
        }
        guard (request.headers["content-type"] ?? "").contains("yaml") else {
            throw APIError.badRequest("the request body is not valid JSON: \(jsonError)")
        }
        let document: YAMLNode?
        do {
            document = try YAML.parseDocument([UInt8](request.body))
        } catch {
            throw APIError.badRequest("the request body is not valid YAML: \(error)")
        }
        guard let document else { throw APIError.badRequest("the request body is an empty YAML document: send the object to apply") }
        return document.json
    }
}
