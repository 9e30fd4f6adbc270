import Foundation

/// Reads revisions of a local repository as plain directories, so that code which works on a tenant
/// repo folder (Render) can look at any commit without touching the work tree.
public enum RevisionExport {
    /// A revision that could not be read.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// The commit `revision` names in the repository at `repository`.
    public static func resolve(_ revision: String, in repository: String) throws(Failure) -> ObjectID {
        do {
            let repo = try GitRepository.open(at: repository)
            guard let commit = try repo.resolveCommit(revision) else {
                throw Failure(message: "\(repository): no commit \"\(revision)\"; fetch it first (git fetch origin \(revision)) or name a branch, tag or hash that exists")
            }
            return commit
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(message: "\(repository): cannot read revision \"\(revision)\": \(error)")
        }
    }

    /// The merge base of two commits (what `base...head` compares against); `head`'s other side when they share none.
    public static func mergeBase(_ base: ObjectID, _ head: ObjectID, in repository: String) throws(Failure) -> ObjectID {
        do {
            return try GitRepository.open(at: repository).mergeBase(base, head) ?? base
        } catch {
            throw Failure(message: "\(repository): cannot find the merge base of \(base) and \(head): \(error)")
        }
    }

    /// Writes the files of `commit` under `subdirectory` ("" for the whole tree) into `directory`, which is
    /// created. Symbolic links and submodules are left out. When the commit has no such folder, `directory` is
    /// left empty if `missingIsEmpty`, else that is an error.
    public static func export(_ commit: ObjectID, subdirectory: String = "", of repository: String, to directory: String,
                              missingIsEmpty: Bool = false) throws(Failure) {
        do {
            let repo = try GitRepository.open(at: repository)
            guard try repo.export(commit, subdirectory: subdirectory, to: directory) else {
                if missingIsEmpty {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    return
                }
                throw Failure(message: "\(repository): commit \(commit) has no folder \"\(subdirectory)\"")
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(message: "\(repository): cannot write commit \(commit) to \(directory): \(error)")
        }
    }
}
