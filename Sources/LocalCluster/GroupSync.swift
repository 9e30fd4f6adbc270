import Foundation

/// Group commit for the store: each write commits its own SQLite transaction (WAL frames written, no
/// fsync: synchronous=NORMAL) and then waits here until an fdatasync of the WAL that began after its
/// commit has returned. The first waiter to find no sync running does the sync for every commit made
/// so far; writers that commit meanwhile are covered by the next one. So concurrent writers share
/// fsyncs, and a write is still acknowledged only once the commit holding it is on disk.
///
/// Unchecked Sendable: every field is touched only with `condition` locked.
final class GroupSync: @unchecked Sendable {
    private let condition = NSCondition()
    private let descriptor: Int32
    private let path: String
    /// Commits made (numbered from 1) and commits known to be on disk.
    private var committed: UInt64 = 0
    private var durable: UInt64 = 0
    private var syncing = false
    /// Set by a failed fdatasync. Linux may drop the dirty pages a failed sync could not write and then
    /// report the next sync as a success, so after one failure no write is acknowledged again.
    private var failure: String?
    private var syncs: UInt64 = 0

    /// Opens the WAL file SQLite writes (it exists once the first write transaction ran). An fsync on
    /// any descriptor of a file flushes the file.
    init(walPath: String) throws {
        let descriptor = open(walPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreSyncError(message: "cannot open the write-ahead log \(walPath) to sync it: \(reason)")
        }
        self.descriptor = descriptor
        self.path = walPath
        // The WAL file's own directory entry must be durable too.
        try Self.syncDirectory(of: walPath)
    }

    deinit { close(descriptor) }

    /// Called with the store's lock held, right after COMMIT returned: the number of this commit.
    func committedOne() -> UInt64 {
        condition.withLock {
            committed += 1
            return committed
        }
    }

    /// The latest commit; a reader that saw it waits for it to be durable before answering.
    var latestCommit: UInt64 { condition.withLock { committed } }

    /// Commits made and fdatasyncs run so far, for the benchmark's report.
    var counts: (commits: UInt64, syncs: UInt64) { condition.withLock { (committed, syncs) } }

    /// Returns once commit `number` is on disk; throws if the sync that should cover it failed.
    func waitUntilDurable(_ number: UInt64) throws {
        condition.lock()
        defer { condition.unlock() }
        while durable < number {
            if let failure { throw StoreSyncError(message: failure) }
            if syncing {
                condition.wait()
                continue
            }
            syncing = true
            let target = committed
            condition.unlock()
            let result = Self.dataSync(descriptor)
            let reason = result == 0 ? nil : String(cString: strerror(errno))
            condition.lock()
            syncing = false
            condition.broadcast()
            if let reason {
                failure = "syncing the write-ahead log \(path) failed: \(reason); writes since the last sync may not be durable, and the local cluster acknowledges none until it is restarted"
                throw StoreSyncError(message: failure!)
            }
            durable = max(durable, target)
            syncs += 1
        }
    }

    private static func dataSync(_ descriptor: Int32) -> Int32 {
        #if os(Linux)
        return fdatasync(descriptor)
        #else
        return fcntl(descriptor, F_FULLFSYNC)
        #endif
    }

    private static func syncDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 {
            throw StoreSyncError(message: "syncing the directory \(directory) failed: \(String(cString: strerror(errno)))")
        }
    }
}

struct StoreSyncError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
