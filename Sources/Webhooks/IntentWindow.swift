import Foundation
import Model

/// One session per intent. An issue opened with a label arrives as `issues.opened` and then `issues.labeled`,
/// two delivery ids for one thing a person meant: the intent (source, route, issue or PR number, trigger kind)
/// names it, and the first admitted delivery of an intent owns it for the tenant's `triggers.intentWindow`
/// (default 10 minutes). Later deliveries of the intent get that session back (`duplicate: true`).
///
/// A pure table inside AdmissionState, so the journal's one committer decides it: exact under concurrent
/// deliveries. The journal keeps it in SQLite (table `intents`), so it survives a restart.
public struct IntentWindow: Sendable {
    public struct Entry: Sendable, Hashable {
        public var session: String
        public var admitted: Date
    }

    private(set) var entries: [String: Entry] = [:]
    private var recordsSincePrune = 0

    public init() {}

    /// The intent of `subject` (InboundEvent.subject) and the kind of trigger that matched, in `namespace` (the
    /// same issue reaching two namespaces, by route and by API key, is two intents); nil without a subject.
    public static func key(namespace: String, subject: String?, kind: String) -> String? {
        subject.map { JSON.strings([namespace, $0, kind]).compactText }
    }

    /// The session that owns `key`, when it was admitted less than `window` seconds before `now`.
    public func owner(of key: String, now: Date, window: Int64) -> String? {
        guard let entry = entries[key], now.timeIntervalSince(entry.admitted) < Double(window) else { return nil }
        return entry.session
    }

    public mutating func record(_ key: String, session: String, at time: Date) {
        entries[key] = Entry(session: session, admitted: time)
        recordsSincePrune += 1
        // No window is longer than Triggers.maxIntentWindow: older entries can never answer again.
        if recordsSincePrune >= 4096 {
            recordsSincePrune = 0
            prune(before: time.addingTimeInterval(-Double(Triggers.maxIntentWindow.seconds)))
        }
    }

    public mutating func remove(_ key: String) { entries[key] = nil }

    public mutating func prune(before limit: Date) {
        entries = entries.filter { $0.value.admitted >= limit }
    }

    public var count: Int { entries.count }
}
