import Foundation

/// The report of the last reconcile, kept in the clone cache (`last-reconcile.json`, in
/// status.json format) so that `tenantry status write` can commit it later, e.g. after a push
/// failed. `StatusWriter.write` records it before committing; the reconciler needs nothing else.
public enum LastReconcile {
    public static func record(_ report: StatusReport, in cache: SourceCache) throws(StatusError) {
        do {
            try AtomicFile.write(report.jsonBytes, to: cache.lastReconcileFile)
        } catch {
            throw .cannotRecord(file: cache.lastReconcileFile, message: "\(error)")
        }
    }

    public static func load(from cache: SourceCache) throws(StatusError) -> StatusReport {
        try read(cache.lastReconcileFile, missing: .noLastReconcile(file: cache.lastReconcileFile))
    }

    /// A report from any file in status.json format.
    public static func read(_ path: String, missing: StatusError? = nil) throws(StatusError) -> StatusReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw missing ?? .invalidReport(file: path, message: "cannot read the file")
        }
        return try StatusReport(jsonBytes: Array(data), source: path)
    }
}
