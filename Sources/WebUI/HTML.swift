import Foundation

/// A piece of HTML that is safe to send: text interpolated into it is escaped, other `HTML` is kept as it is.
/// Pages are built only from these, so a value from a payload (an issue title, a log line) cannot become markup.
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var text: String

    /// Markup written in this module (never a payload's text).
    public init(stringLiteral value: String) { text = value }
    init(trusted markup: String) { text = markup }

    public init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        public init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { text += literal }
        public mutating func appendInterpolation(_ value: HTML) { text += value.text }
        public mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) { text += HTML.escape(value.description) }
        public mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
    }

    public var description: String { text }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.text + b.text) }

    public static func join(_ parts: [HTML], separator: HTML = "") -> HTML { HTML(trusted: parts.map(\.text).joined(separator: separator.text)) }

    /// Escapes the five characters that matter in text and in quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An http(s) URL from a payload, for an href; anything else (javascript:, data:, relative) is nil.
    public static func externalURL(_ text: String?) -> String? {
        guard let text, text.count <= 2048, text.lowercased().hasPrefix("https://") || text.lowercased().hasPrefix("http://"),
              !text.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" }) else { return nil }
        return text
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Percent-encodes a value for a path segment or a query value of a link built here.
    public static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
