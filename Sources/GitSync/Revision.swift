/// A reconciled or fetched revision in Flux's form: `main@sha1:<40 hex>` for a branch or tag,
/// `sha1:<40 hex>` for a commit pinned without a branch.
public struct Revision: Sendable, Hashable, CustomStringConvertible {
    /// The branch or tag name, when the commit was reached through one.
    public let reference: String?
    public let commit: ObjectID

    public init(reference: String?, commit: ObjectID) {
        self.reference = reference
        self.commit = commit
    }

    /// Parses the text `description` produces.
    public init?(_ text: String) {
        let name: String?
        let hashPart: Substring
        if let at = text.lastIndex(of: "@") {
            name = String(text[..<at])
            hashPart = text[text.index(after: at)...]
        } else {
            name = nil
            hashPart = Substring(text)
        }
        guard hashPart.hasPrefix("sha1:"), let commit = ObjectID(hex: String(hashPart.dropFirst(5))) else { return nil }
        self.init(reference: name, commit: commit)
    }

    public var description: String { (reference.map { "\($0)@" } ?? "") + "sha1:" + commit.hex }
}
