import Foundation
import Model

/// The text/event-stream framing (WHATWG HTML, "Server-sent events"): `id`, `event` and one `data` line per
/// event, a blank line after; comments start with a colon. The data is compact JSON, which has no newline, and
/// ids and names come from the server, so nothing a client sent can break a frame.
enum ServerSentEvents {
    static let contentType = "text/event-stream; charset=utf-8"

    static func event(id: String, name: String, data: JSON) -> Data {
        var text = ""
        if !id.isEmpty { text += "id: \(Self.field(id))\n" }
        text += "event: \(Self.field(name))\ndata: \(data.compactText)\n\n"
        return Data(text.utf8)
    }

    static func comment(_ text: String) -> Data { Data(": \(field(text))\n\n".utf8) }

    /// How long a client waits before it reconnects (the stream's first frame).
    static func retry(milliseconds: Int) -> Data { Data("retry: \(milliseconds)\n\n".utf8) }

    /// A field value cannot hold a line break.
    private static func field(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\n" && $0 != "\r" }.map(Character.init))
    }
}
