import Foundation
import Support
import Model

// status/status.json and last-reconcile.json: the machine-readable report. Keys are written in
// a fixed order, tenants by name, so equal reports are equal bytes.

extension StatusReport {
    public static let format = "tenantry.status/v1"

    public var json: JSON {
        let tenants = sortedTenants
        return [
            "format": .string(Self.format),
            "revision": .string(revision),
            "time": .string(Timestamp.rfc3339(time)),
            "summary": [
                "tenants": .int(tenants.count),
                "ready": .int(tenants.filter(\.ready).count),
                "notReady": .int(tenants.filter { !$0.ready }.count),
            ],
            "tenants": .array(tenants.map(\.json)),
        ]
    }

    /// The bytes of status.json: indented, ending in a newline.
    public var jsonBytes: [UInt8] { Array((json.prettyText + "\n").utf8) }

    /// Reads a report written by `jsonBytes`. `source` names the file in errors.
    public init(jsonBytes bytes: [UInt8], source: String) throws(StatusError) {
        func invalid(_ message: String) -> StatusError { .invalidReport(file: source, message: message) }
        guard let object = (try? JSON(parsing: Data(bytes)))?.objectValue else {
            throw invalid("not a JSON object")
        }
        guard object["format"]?.stringValue == Self.format else {
            throw invalid("expected \"format\": \"\(Self.format)\"")
        }
        guard let revision = object["revision"]?.stringValue else { throw invalid("missing \"revision\"") }
        guard let time = object["time"]?.stringValue.flatMap(Timestamp.parse) else {
            throw invalid("missing or malformed \"time\" (expected e.g. 2026-01-31T12:00:00Z)")
        }
        guard let tenants = object["tenants"]?.arrayValue else { throw invalid("missing \"tenants\" list") }
        self.init(
            revision: revision, time: time,
            tenants: try tenants.enumerated().map { (index, tenant) throws(StatusError) in
                guard let status = tenant.objectValue.flatMap(TenantStatus.init(jsonObject:)) else {
                    throw invalid("tenants[\(index)] is not a tenant entry (see specs/status-report.md)")
                }
                return status
            })
    }

    /// This report with what only describes its round taken from the committed one (`bytes`): the committed
    /// time, and for each tenant this round neither applied nor pruned anything for, the committed applied and
    /// pruned lists. Equal to the committed report exactly when nothing a reader cares about changed. Nil
    /// when `bytes` is not a report.
    func carryingRoundDetails(ofCommitted bytes: [UInt8]) -> StatusReport? {
        guard let committed = try? StatusReport(jsonBytes: bytes, source: "status.json") else { return nil }
        var carried = self
        carried.time = committed.time
        let before = Dictionary(committed.tenants.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for index in carried.tenants.indices where carried.tenants[index].applied.isEmpty && carried.tenants[index].pruned.isEmpty {
            guard let previous = before[carried.tenants[index].name] else { continue }
            carried.tenants[index].applied = previous.applied
            carried.tenants[index].pruned = previous.pruned
        }
        return carried
    }
}

extension TenantStatus {
    var json: JSON {
        [
            "name": .string(name),
            "ready": .bool(ready),
            "objects": .int(objects),
            "applied": .strings(applied),
            "pruned": .strings(pruned),
            "failed": .array(failed.map { ["object": .string($0.object), "message": .string($0.message)] }),
            "errors": .array(errors.map(\.json)),
            "sessions": .object(JSONObject(sessions.byPhase.map { ($0.phase, JSON.int($0.count)) })),
        ]
    }

    init?(jsonObject object: JSONObject) {
        func strings(_ value: JSON?) -> [String]? {
            guard let items = value?.arrayValue else { return nil }
            let texts = items.compactMap(\.stringValue)
            return texts.count == items.count ? texts : nil
        }
        guard let name = object["name"]?.stringValue, let ready = object["ready"]?.boolValue,
            let applied = strings(object["applied"]), let pruned = strings(object["pruned"]),
            let failed = object["failed"]?.arrayValue, let errors = object["errors"]?.arrayValue,
            let counts = object["sessions"]?.objectValue
        else { return nil }
        var sessions: [String: Int] = [:]
        for (phase, count) in zip(counts.keys, counts.values) {
            guard let count = count.intValue else { return nil }
            sessions[phase] = count
        }
        var failures: [ObjectFailure] = []
        for failure in failed {
            guard let id = failure["object"]?.stringValue, let message = failure["message"]?.stringValue else { return nil }
            failures.append(ObjectFailure(object: id, message: message))
        }
        var issues: [ValidationIssue] = []
        for error in errors {
            guard let file = error["file"]?.stringValue, let line = error["line"]?.intValue,
                let message = error["message"]?.stringValue
            else { return nil }
            issues.append(
                ValidationIssue(
                    file: file, line: line, column: error["column"]?.intValue, field: error["field"]?.stringValue,
                    message: message))
        }
        // `objects` came after the first reports; older ones read as 0.
        self.init(
            name: name, ready: ready, objects: object["objects"]?.intValue ?? 0, applied: applied, pruned: pruned,
            failed: failures, errors: issues,
            sessions: SessionCounts(byPhase: sessions))
    }
}

extension ValidationIssue {
    var json: JSON {
        var object: JSONObject = ["file": .string(file), "line": .int(line)]
        if let column { object["column"] = .int(column) }
        if let field { object["field"] = .string(field) }
        object["message"] = .string(message)
        return .object(object)
    }
}
