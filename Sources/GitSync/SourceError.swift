import Foundation
import Model

/// Why a fetch failed. The text never contains a token: every message from libgit2 passes
/// through the credentials' `Redaction` first. When an earlier fetch succeeded, the error says
/// which revision stays in use and how old it is.
public struct SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The token file, variable or key could not be read.
        case credentials(String)
        /// The remote could not be reached or read: wrong URL, host down, repository gone.
        case unreachable(String)
        case authenticationRefused(String, hint: String)
        case referenceMissing(SourceReference, available: [String])
        /// The cache could not be written for lack of space.
        case diskFull(cache: String, message: String)
        /// The cache is unusable even after being re-cloned.
        case cache(path: String, message: String)
    }

    public let reason: Reason
    /// The repository URL, with any password masked.
    public let url: String
    /// The revision still in use, and how long ago it was fetched.
    public var lastGood: LastGoodRevision?

    init(_ reason: Reason, url: String, lastGood: LastGoodRevision? = nil) {
        self.reason = reason
        self.url = Redaction.displayURL(url)
        self.lastGood = lastGood
    }

    public var description: String {
        var text: String
        switch reason {
        case .credentials(let message):
            text = "cannot load the credentials for \(url): \(message)"
        case .unreachable(let message):
            text = "cannot fetch \(url): \(message); check the URL and that the host is reachable from here"
        case .authenticationRefused(let message, let hint):
            text = "authentication to \(url) was refused (\(message)); \(hint)"
        case .referenceMissing(let reference, let available):
            switch reference {
            case .commit(let id, _):
                text = "commit \(id) is not in any branch or tag of \(url); check --commit / source.commit"
            default:
                text = "\(reference) not found in \(url)"
                text += available.isEmpty ? "; the repository has none" : "; it has: \(available.joined(separator: ", "))"
            }
        case .diskFull(let cache, let message):
            text = "cannot write the clone cache \(cache): \(message); free some space or point --cache elsewhere"
        case .cache(let path, let message):
            text = "the clone cache \(path) is damaged and could not be re-created: \(message); delete it and retry"
        }
        if let lastGood { text += "\n" + lastGood.description }
        return text
    }
}

/// The revision a failed fetch leaves in use.
public struct LastGoodRevision: Sendable, Hashable, CustomStringConvertible {
    public let revision: Revision
    public let fetchedAt: Date
    public let age: Duration

    public var description: String {
        "still using \(revision), fetched \(DurationText.format(age)) ago (\(Timestamp.format(fetchedAt)))"
    }
}
