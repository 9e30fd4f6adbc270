import CTenantry
import Foundation

/// A value bound to or read from an SQL statement.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)

    public var integer: Int64? { if case .integer(let value) = self { return value }; return nil }
    public var text: String? { if case .text(let value) = self { return value }; return nil }
}

/// An SQLite call that failed: the result code and sqlite3_errmsg, read in the same call.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let path: String
    public var description: String {
        "SQLite error \(code) on \(path): \(message); check that the directory is writable and the disk is not full"
    }
}

/// The SQLite wrapper shared by the local cluster's store and the webhook journal: one connection with its
/// prepared statements. Not thread-safe: its owner serializes access (the Store's lock, the Journal's committer).
public final class SQLiteDatabase {
    private let handle: OpaquePointer
    public let path: String
    private var statements: [String: OpaquePointer] = [:]

    public init(path: String) throws(SQLiteError) {
        var opened: OpaquePointer?
        let rc = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(opened)
            throw SQLiteError(code: rc, message: message, path: path)
        }
        self.handle = opened
        self.path = path
        try check(sqlite3_busy_timeout(opened, 5_000))
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    /// Runs one or more statements that take no parameters (schema, pragmas, BEGIN/COMMIT).
    /// The durability Tenantry's stores promise: a write-ahead log, and a commit that returns only once it is
    /// on disk (`synchronous=FULL`: an acknowledged write survives a crash or a power cut).
    public static let durabilitySettings = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    /// WAL without SQLite's per-commit sync, for a caller that syncs the WAL itself after the commits it
    /// acknowledges (the local cluster's group commit).
    public static let groupCommitSettings = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"

    /// Applies `durabilitySettings` to this connection.
    public func makeDurable() throws(SQLiteError) {
        try execute(Self.durabilitySettings)
    }

    public func execute(_ sql: String) throws(SQLiteError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil))
    }

    /// Runs a statement and returns its rows. Statements are prepared once and cached by their text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            switch parameter {
            case .null: try check(sqlite3_bind_null(statement, index))
            case .integer(let value): try check(sqlite3_bind_int64(statement, index, value))
            case .text(let value):
                // SQLITE_TRANSIENT (a cast macro Swift cannot import): SQLite copies the text.
                try check(sqlite3_bind_text(statement, index, value, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self)))
            }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { try check(rc); break }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
                case SQLITE_NULL: return .null
                default: return .text(String(cString: sqlite3_column_text(statement, column)))
                }
            })
        }
        return rows
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil))
        guard let statement else { throw SQLiteError(code: SQLITE_MISUSE, message: "empty statement: \(sql)", path: path) }
        statements[sql] = statement
        return statement
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path)
        }
    }
}
