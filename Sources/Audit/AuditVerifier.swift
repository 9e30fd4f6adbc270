import Foundation
import Model
import Support

/// What `verify` found: how many entries checked out, and the first that did not.
public struct AuditVerification: Sendable, Hashable, CustomStringConvertible {
    public var checked: Int
    /// The first bad entry's sequence number (or the one expected there) and what is wrong with it.
    public var firstBad: (sequence: Int64, reason: String)?
    public var intact: Bool { firstBad == nil }

    public init(checked: Int, firstBad: (sequence: Int64, reason: String)?) {
        self.checked = checked
        self.firstBad = firstBad
    }

    public static func == (a: AuditVerification, b: AuditVerification) -> Bool {
        a.checked == b.checked && a.firstBad?.sequence == b.firstBad?.sequence && a.firstBad?.reason == b.firstBad?.reason
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(checked); hasher.combine(firstBad?.sequence) }

    public var description: String {
        guard let firstBad else { return "audit trail intact: \(checked) entries verified" }
        return "audit trail broken at entry \(firstBad.sequence): \(firstBad.reason) (\(checked) entries before it verified)"
    }
}

/// Walks the rows in sequence order: each must follow the one before without a gap, link to its hash,
/// hash to what it says, and its indexed columns must say what its hashed entry says.
struct AuditVerifier {
    private var expected: Int64
    private var previous: String
    private(set) var checked = 0
    private(set) var problem: (Int64, String)?

    init(anchorSequence: Int64, anchorHash: String) {
        expected = anchorSequence + 1
        previous = anchorHash
    }

    var result: AuditVerification { AuditVerification(checked: checked, firstBad: problem.map { (sequence: $0.0, reason: $0.1) }) }

    mutating func check(_ row: [SQLiteValue]) {
        guard let sequence = row[0].integer else { return fail(expected, "the sequence number is not an integer") }
        guard sequence == expected else {
            return fail(expected, sequence > expected ? "missing (the next stored entry is \(sequence)): removed" : "out of order")
        }
        let text = row[7].text ?? ""
        guard row[8].text == previous else { return fail(sequence, "its previous hash does not match entry \(sequence - 1)'s hash: an entry before it was changed or removed") }
        guard AuditChain.hash(previous: previous, canonicalText: text) == row[9].text else {
            return fail(sequence, "its hash does not match its content: the entry was edited")
        }
        guard let record = Self.record(fromCanonical: text),
              JSON.object(AuditChain.canonical(sequence: sequence, record)).compactText == text else {
            return fail(sequence, "its content is not a canonical audit entry")
        }
        let columns = [AuditTime.format(record.timestamp), record.namespace, record.session, record.actor, record.action, record.outcome]
        guard columns == (1...6).map({ row[$0].text ?? "" }) else {
            return fail(sequence, "its columns (timestamp, namespace, session, actor, action, outcome) differ from its hashed content: the entry was edited")
        }
        previous = row[9].text ?? ""
        expected += 1
        checked += 1
    }

    /// The head must be the last entry checked, so removing the newest entries is detected too.
    mutating func finish(head: (Int64, String)?) {
        guard problem == nil else { return }
        let last = expected - 1
        guard let head else {
            if checked > 0 { fail(1, "the chain's head record is missing") }
            return
        }
        if head.0 > last { return fail(last + 1, "missing (the head says the newest entry is \(head.0)): removed") }
        if head.1 != previous { fail(last, "the head's hash does not match the newest entry") }
    }

    private mutating func fail(_ sequence: Int64, _ reason: String) {
        problem = (sequence, reason)
    }

    static func record(fromCanonical text: String) -> AuditRecord? {
        guard let json = try? JSON(parsing: text), let object = json.objectValue,
              let time = object["timestamp"]?.stringValue.flatMap(AuditTime.parse) else { return nil }
        func field(_ key: String) -> String { object[key]?.stringValue ?? "" }
        return AuditRecord(timestamp: time, namespace: field("namespace"), session: field("session"), actor: field("actor"), action: field("action"),
                           resource: field("resource"), outcome: field("outcome"), details: object["details"]?.objectValue ?? [:],
                           traceID: field("traceId"))
    }
}
