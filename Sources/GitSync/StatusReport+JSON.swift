import Foundation
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
            "time": .string(Timestamp.format(time)),
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
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw invalid("not a JSON object")
        }
        guard object["format"] as? String == Self.format else {
            throw invalid("expected \"format\": \"\(Self.format)\"")
        }
        guard let revision = object["revision"] as? String else { throw invalid("missing \"revision\"") }
        guard let time = (object["time"] as? String).flatMap(Timestamp.parse) else {
            throw invalid("missing or malformed \"time\" (expected e.g. 2026-01-31T12:00:00Z)")
        }
        guard let tenants = object["tenants"] as? [[String: Any]] else { throw invalid("missing \"tenants\" list") }
        self.init(
            revision: revision, time: time,
            tenants: try tenants.enumerated().map { (index, tenant) throws(StatusError) in
                guard let status = TenantStatus(jsonObject: tenant) else {
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

    init?(jsonObject object: [String: Any]) {
        guard let name = object["name"] as? String, let ready = object["ready"] as? Bool,
            let applied = object["applied"] as? [String], let pruned = object["pruned"] as? [String],
            let failed = object["failed"] as? [[String: Any]], let errors = object["errors"] as? [[String: Any]],
            let sessions = object["sessions"] as? [String: Int]
        else { return nil }
        var failures: [ObjectFailure] = []
        for failure in failed {
            guard let id = failure["object"] as? String, let message = failure["message"] as? String else { return nil }
            failures.append(ObjectFailure(object: id, message: message))
        }
        var issues: [ValidationIssue] = []
        for error in errors {
            guard let file = error["file"] as? String, let line = error["line"] as? Int,
                let message = error["message"] as? String
            else { return nil }
            issues.append(
                ValidationIssue(
                    file: file, line: line, column: error["column"] as? Int, field: error["field"] as? String,
                    message: message))
        }
        // `objects` came after the first reports; older ones read as 0.
        self.init(
            name: name, ready: ready, objects: object["objects"] as? Int ?? 0, applied: applied, pruned: pruned,
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
