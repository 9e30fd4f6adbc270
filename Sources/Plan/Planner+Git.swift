import Foundation
import GitSync
import Model

extension Planner {
    /// Which commits a git plan compared.
    public struct Revisions: Sendable, Hashable {
        /// The merge base of base and head: what `base...head` compares against, as GitHub does.
        public let base: ObjectID
        public let head: ObjectID
    }

    /// Plans `base...head` of the local repository at `repository`: each side's tree under `path` is written
    /// to a temporary folder (removed afterwards), read, validated and rendered.
    public static func plan(repository: String, base: String, head: String, path: String = "")
        throws(RevisionExport.Failure) -> (plan: RepoPlan, revisions: Revisions) {
        let headCommit = try RevisionExport.resolve(head, in: repository)
        let baseCommit = try RevisionExport.mergeBase(try RevisionExport.resolve(base, in: repository), headCommit, in: repository)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw RevisionExport.Failure(message: "cannot create a temporary folder \(scratch.path): \(error.localizedDescription)")
        }
        let baseDirectory = scratch.appendingPathComponent("base").path
        let headDirectory = scratch.appendingPathComponent("head").path
        // A pull request that creates the tenant repo has nothing on its base side: everything is added.
        try RevisionExport.export(baseCommit, subdirectory: path, of: repository, to: baseDirectory, missingIsEmpty: true)
        try RevisionExport.export(headCommit, subdirectory: path, of: repository, to: headDirectory)
        let plan = Planner.plan(base: PlanSide.load(baseDirectory), head: PlanSide.load(headDirectory))
        return (plan, Revisions(base: baseCommit, head: headCommit))
    }
}
