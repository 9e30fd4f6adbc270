import Foundation

/// Removes secrets from text before it can reach an error, a log line or a terminal.
struct Redaction: Sendable, Hashable {
    static let mask = "***"
    private(set) var secrets: [String] = []

    init(secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    mutating func add(_ secret: String) {
        guard !secret.isEmpty, !secrets.contains(secret) else { return }
        secrets.append(secret)
        // libgit2 and URLs may carry the secret percent-encoded.
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
            secrets.append(encoded)
        }
    }

    func apply(_ text: String) -> String {
        secrets.reduce(Redaction.displayURLs(in: text)) { $0.replacingOccurrences(of: $1, with: Redaction.mask) }
    }

    /// `https://user:secret@host/…` → `https://user:***@host/…`; URLs without a password are unchanged.
    static func displayURL(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
            let colon = rest[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<rest.startIndex]) + rest[..<colon] + ":" + mask + rest[at...]
    }

    /// Applies `displayURL` to every URL-looking word of `text`.
    private static func displayURLs(in text: String) -> String {
        guard text.contains("://") else { return text }
        var words = text.components(separatedBy: " ")
        for index in words.indices where words[index].contains("://") {
            // Keep quotes and punctuation around the URL in place.
            let trimmed = words[index].trimmingCharacters(in: CharacterSet(charactersIn: "'\"()<>,;"))
            words[index] = words[index].replacingOccurrences(of: trimmed, with: displayURL(trimmed))
        }
        return words.joined(separator: " ")
    }
}
