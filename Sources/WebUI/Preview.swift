import Foundation
import HTTPServer
import Model

/// Artifacts shown inline: plain text, Markdown (a safe subset, rendered from escaped text, so no markup in the
/// file survives) and unified diffs (lines coloured by their sign).
enum Preview {
    enum Kind: String { case text, markdown, diff }

    static let maxBytes = 1 << 20

    static func kind(name: String, contentType: String?) -> Kind? {
        let lower = name.lowercased()
        if lower.hasSuffix(".md") || lower.hasSuffix(".markdown") || contentType?.hasPrefix("text/markdown") == true { return .markdown }
        if lower.hasSuffix(".diff") || lower.hasSuffix(".patch") || contentType?.hasPrefix("text/x-diff") == true || contentType?.hasPrefix("text/x-patch") == true { return .diff }
        if lower.hasSuffix(".txt") || lower.hasSuffix(".log") || lower.hasSuffix(".json") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".yaml")
            || contentType?.hasPrefix("text/") == true || contentType?.hasPrefix("application/json") == true { return .text }
        return nil
    }

    static func render(_ text: String, as kind: Kind) -> HTML {
        switch kind {
        case .text: return "<pre class=\"wrap\">\(text)</pre>"
        case .diff:
            let lines: [HTML] = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                let kind = line.hasPrefix("+++") || line.hasPrefix("---") ? "file" : line.hasPrefix("+") ? "add" : line.hasPrefix("-") ? "del" : line.hasPrefix("@@") ? "hunk" : "ctx"
                return "<span class=\"diff-\(kind)\">\(String(line))</span>\n"
            }
            return "<pre class=\"diff\">\(lines)</pre>"
        case .markdown: return markdown(text)
        }
    }

    /// Headings, paragraphs, fenced code, bullet and numbered lists, `code`, **bold**, *emphasis*: each from
    /// text escaped first.
    static func markdown(_ text: String) -> HTML {
        var out: [HTML] = []
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [String])?
        var code: [String]?
        func flushParagraph() {
            if !paragraph.isEmpty { out.append("<p>\(inline(paragraph.joined(separator: " ")))</p>") }
            paragraph = []
        }
        func flushList() {
            if let current = list {
                let items: [HTML] = current.items.map { "<li>\(inline($0))</li>" }
                out.append(current.ordered ? "<ol>\(items)</ol>" : "<ul>\(items)</ul>")
            }
            list = nil
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var block = code {
                if raw.hasPrefix("```") {
                    out.append("<pre><code>\(block.joined(separator: "\n"))</code></pre>")
                    code = nil
                } else {
                    block.append(raw)
                    code = block
                }
                continue
            }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") { flushParagraph(); flushList(); code = []; continue }
            if line.isEmpty { flushParagraph(); flushList(); continue }
            if let hashes = line.firstIndex(where: { $0 != "#" }), line.hasPrefix("#"), line[hashes] == " " {
                let level = min(6, line.distance(from: line.startIndex, to: hashes))
                flushParagraph(); flushList()
                out.append(HTML(trusted: "<h\(level + 1)>") + inline(String(line[hashes...]).trimmingCharacters(in: .whitespaces)) + HTML(trusted: "</h\(level + 1)>"))
                continue
            }
            if line.hasPrefix("- ") || line.hasPrefix("* ") {
                flushParagraph()
                if list?.ordered != false { flushList(); list = (false, []) }
                list?.items.append(String(line.dropFirst(2)))
                continue
            }
            if let dot = line.firstIndex(of: "."), line[..<dot].allSatisfy(\.isNumber), !line[..<dot].isEmpty, line[line.index(after: dot)...].hasPrefix(" ") {
                flushParagraph()
                if list?.ordered != true { flushList(); list = (true, []) }
                list?.items.append(String(line[line.index(dot, offsetBy: 2)...]))
                continue
            }
            flushList()
            paragraph.append(line)
        }
        if let block = code { out.append("<pre><code>\(block.joined(separator: "\n"))</code></pre>") }
        flushParagraph(); flushList()
        return "<div class=\"markdown\">\(out)</div>"
    }

    /// `code`, **bold** and *emphasis* in escaped text.
    static func inline(_ text: String) -> HTML {
        var html = HTML.escape(text)
        html = replace(html, "`([^`]+)`", "<code>$1</code>")
        html = replace(html, "\\*\\*([^*]+)\\*\\*", "<strong>$1</strong>")
        html = replace(html, "\\*([^*]+)\\*", "<em>$1</em>")
        return HTML(trusted: html)
    }

    private static func replace(_ text: String, _ pattern: String, _ template: String) -> String {
        text.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
    }
}

extension WebUI {
    /// An artifact shown inline (escaped), at most the first MiB.
    func artifactPage(_ context: Context, namespace: String, id: String, name: String) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        guard Self.validNamespace(namespace), Self.validSessionID(id) else { return errorPage(context, status: 400, title: "Bad name", message: "\(namespace)/\(id) does not name a session.") }
        let answer = api.call("GET", "/api/v1/namespaces/\(namespace)/sessions/\(id)/artifacts/\(name)", token: token,
                              headers: ["range": "bytes=0-\(Preview.maxBytes - 1)"], traceID: context.traceID)
        guard answer.status == 200 || answer.status == 206 else { return refusal(context, answer) }
        guard let kind = Preview.kind(name: name, contentType: answer.response.header("content-type")) else {
            return errorPage(context, status: 415, title: "No preview", message: "\(name) is not text; download it instead.")
        }
        var data = Data()
        switch answer.response.body {
        case .bytes(let bytes): data = bytes
        case .stream(let stream): data = stream.collect(limit: Preview.maxBytes)
        }
        let base = "/namespaces/\(namespace)/sessions/\(id)"
        let body: HTML = """
        <div class="title-row"><h1>\(name)</h1><a class="button" href="\(base)/artifacts/\(HTML.component(name))" download>Download</a></div>
        <p><a href="\(base)">Back to \(id)</a></p>
        \(Preview.render(String(decoding: data.prefix(Preview.maxBytes), as: UTF8.self), as: kind))
        """
        return page(Layout.document(title: name, context: context, namespace: namespace, body: body))
    }
}
