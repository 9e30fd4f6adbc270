import Foundation
import HTTPServer
import Support

/// The CSS and script modules in Sources/WebUI/Assets, compiled into the binary by SwiftPM (`.embedInCode`, as
/// `PackageResources`), so nothing needs to ship beside it; each served at a name that carries a hash of
/// its content (`/assets/app.3f2a….css`), so it can be cached for a year and a new build is fetched at once.
/// A module's `import "./x.js"` is rewritten to x's hashed name before the importer is hashed.
enum Assets {
    struct File: Sendable {
        var name: String
        var hashedName: String
        var contentType: String
        var body: Data
    }

    /// By hashed name.
    static let sources: [String: String] = [
        "app.css": String(decoding: PackageResources.app_css, as: UTF8.self),
        "live.js": String(decoding: PackageResources.live_js, as: UTF8.self),
        "log.js": String(decoding: PackageResources.log_js, as: UTF8.self),
    ]

    static let files: [String: File] = {
        var byName: [String: File] = [:]
        // Modules without imports first, so an importer's rewrite finds its dependencies' hashed names.
        let names = sources.keys.sorted { a, b in
            let ai = sources[a]!.contains("from \"./"), bi = sources[b]!.contains("from \"./")
            return ai == bi ? a < b : !ai
        }
        for name in names {
            var text = sources[name]!
            for (dependency, file) in byName { text = text.replacingOccurrences(of: "from \"./\(dependency)\"", with: "from \"/assets/\(file.hashedName)\"") }
            let data = Data(text.utf8)
            let hash = String(Crypto.sha256Hex(data).prefix(16))
            let dot = name.lastIndex(of: ".")!
            let hashed = name[..<dot] + "." + hash + name[dot...]
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"
            byName[name] = File(name: name, hashedName: String(hashed), contentType: type, body: data)
        }
        return Dictionary(uniqueKeysWithValues: byName.values.map { ($0.hashedName, $0) })
    }()

    private static let urls: [String: String] = Dictionary(uniqueKeysWithValues: files.values.map { ($0.name, "/assets/" + $0.hashedName) })

    /// The hashed URL of an asset by its file name.
    static func url(_ name: String) -> String { urls[name] ?? "/assets/\(name)" }

    static func serve(path: String) -> Response {
        let name = String(path.dropFirst("/assets/".count))
        var headers = WebUI.securityHeaders
        guard let file = files[name] else {
            headers["Content-Type"] = "text/plain; charset=utf-8"
            headers["Cache-Control"] = "no-store"
            return Response(status: 404, headers: headers, body: Data("no asset \(name.prefix(80))\n".utf8))
        }
        headers["Content-Type"] = file.contentType
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return Response(status: 200, headers: headers, body: file.body)
    }
}
