import Foundation

/// What one reconcile did, as committed to the repository's status directory (format in
/// specs/status-report.md). The reconciler fills it from Render's per-tenant results and
/// Apply's change sets; GitSync renders and commits it.
public struct StatusReport: Sendable, Hashable {
    /// The reconciled source revision, e.g. `main@sha1:<40 hex>`.
    public var revision: String
    public var time: Date
    public var tenants: [TenantStatus]

    public init(revision: String, time: Date, tenants: [TenantStatus]) {
        self.revision = revision
        self.time = time
        self.tenants = tenants
    }

    /// Tenants in name order: the order of the report's files and sections.
    var sortedTenants: [TenantStatus] {
        tenants.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}

public struct TenantStatus: Sendable, Hashable {
    public var name: String
    public var ready: Bool
    /// Objects the tenant's files render to, all of them managed by Tenantry (not only those applied this time).
    public var objects: Int
    /// Objects applied (created or configured), as `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    public var applied: [String]
    public var pruned: [String]
    public var failed: [ObjectFailure]
    public var errors: [ValidationIssue]
    public var sessions: SessionCounts

    public init(
        name: String, ready: Bool, objects: Int = 0, applied: [String] = [], pruned: [String] = [], failed: [ObjectFailure] = [],
        errors: [ValidationIssue] = [], sessions: SessionCounts = SessionCounts()
    ) {
        self.name = name
        self.ready = ready
        self.objects = objects
        self.applied = applied
        self.pruned = pruned
        self.failed = failed
        self.errors = errors
        self.sessions = sessions
    }
}

/// An object that could not be applied or pruned, and why.
public struct ObjectFailure: Sendable, Hashable {
    public var object: String
    public var message: String

    public init(object: String, message: String) {
        self.object = object
        self.message = message
    }
}

/// A validation diagnostic from Render, pointing into the tenant files.
public struct ValidationIssue: Sendable, Hashable {
    public var file: String
    public var line: Int
    public var column: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int, column: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `file:line[:column]`, as editors and compilers print positions.
    public var location: String { "\(file):\(line)" + (column.map { ":\($0)" } ?? "") }
}

/// Sessions of a tenant by phase.
public struct SessionCounts: Sendable, Hashable {
    public var pending: Int
    public var running: Int
    public var completed: Int
    public var failed: Int
    public var stopped: Int

    public init(pending: Int = 0, running: Int = 0, completed: Int = 0, failed: Int = 0, stopped: Int = 0) {
        self.pending = pending
        self.running = running
        self.completed = completed
        self.failed = failed
        self.stopped = stopped
    }

    static let phaseNames = ["pending", "running", "completed", "failed", "stopped"]

    /// The counts in `phaseNames` order.
    var byPhase: [(phase: String, count: Int)] {
        Array(zip(Self.phaseNames, [pending, running, completed, failed, stopped]))
    }

    init(byPhase counts: [String: Int]) {
        self.init(
            pending: counts["pending"] ?? 0, running: counts["running"] ?? 0, completed: counts["completed"] ?? 0,
            failed: counts["failed"] ?? 0, stopped: counts["stopped"] ?? 0)
    }
}
