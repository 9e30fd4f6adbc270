import Foundation
import HTTPClient
import XCTest

/// A fake GitHub REST API on 127.0.0.1 (Python's http.server, started per test). It keeps issue comments in
/// memory, answers as GitHub documents, records every call, and can be told to rate-limit the next calls.
/// Served under `/api/v3`, as GitHub Enterprise Server is.
final class FakeGitHub {
    private let server: Process
    let port: String
    var apiURL: String { "http://127.0.0.1:\(port)/api/v3" }

    struct Call: Equatable, CustomStringConvertible {
        let method: String
        let path: String
        let body: [String: String]
        var description: String { "\(method) \(path)" }
    }

    private static let script = #"""
    import json, re, threading
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

    lock = threading.Lock()
    state = {"comments": {}, "next_id": 1001, "log": [], "limits": [], "auth": set()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def answer(self, status, value, headers={}):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            if self.path == "/__log":
                with lock: return self.answer(200, {"log": state["log"], "auth": sorted(state["auth"]),
                                                    "comments": len(state["comments"])})
            if self.path == "/__limit":
                with lock: state["limits"].append(body)
                return self.answer(200, {})
            if not self.path.startswith("/api/v3/"):
                return self.answer(404, {"message": "Not Found"})
            path = self.path[len("/api/v3"):]
            with lock:
                state["log"].append({"method": self.command, "path": path,
                                     "body": {k: str(v) for k, v in body.items()}})
                state["auth"].add(self.headers.get("Authorization", ""))
                if state["limits"]:
                    limit = state["limits"].pop(0)
                    if "retryAfter" in limit:
                        return self.answer(403, {"message": "You have exceeded a secondary rate limit."},
                                           {"Retry-After": str(limit["retryAfter"])})
                    return self.answer(limit.get("status", 403), {"message": "API rate limit exceeded"},
                                       {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(limit["reset"])})
                if self.headers.get("Accept") != "application/vnd.github+json":
                    return self.answer(415, {"message": "Unsupported Accept"})
                m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments\?per_page=100&page=(\d+)", path)
                if m and self.command == "GET":
                    items = [c for c in state["comments"].values() if c["issue"] == int(m.group(2))]
                    page = int(m.group(3))
                    return self.answer(200, [{"id": c["id"], "body": c["body"]} for c in items[(page-1)*100:page*100]])
                m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
                if m and self.command == "POST":
                    cid = state["next_id"]; state["next_id"] += 1
                    state["comments"][cid] = {"id": cid, "issue": int(m.group(2)), "body": body["body"]}
                    return self.answer(201, {"id": cid, "body": body["body"]})
                m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
                if m and self.command == "PATCH":
                    cid = int(m.group(2))
                    if cid not in state["comments"]: return self.answer(404, {"message": "Not Found"})
                    state["comments"][cid]["body"] = body["body"]
                    return self.answer(200, {"id": cid, "body": body["body"]})
                m = re.fullmatch(r"/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})", path)
                if m and self.command == "POST":
                    return self.answer(201, {"state": body["state"], "context": body["context"], "description": body["description"]})
                return self.answer(404, {"message": "Not Found"})
        do_GET = do_POST = do_PATCH = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    init() throws {
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", Self.script]
        let pipe = Pipe()
        server.standardOutput = pipe
        try server.run()
        var line = Data()
        while !line.contains(10) { line.append(pipe.fileHandleForReading.availableData) }
        port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        // SIGKILL, not terminate(): a fake must end even if the test process left SIGTERM ignored for its children.
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
    }

    private func control(_ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        let response = try HTTPClient().send(HTTPRequest(method: body == nil ? "GET" : "POST", url: "http://127.0.0.1:\(port)\(path)",
                                                         body: try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// The next call is answered 403 (or `status`) with `x-ratelimit-remaining: 0` and this reset time.
    func rateLimitNext(reset: Int, status: Int = 403) throws { _ = try control("/__limit", ["reset": reset, "status": status]) }
    /// The next call is answered 403 with `retry-after`.
    func secondaryLimitNext(retryAfter: Int) throws { _ = try control("/__limit", ["retryAfter": retryAfter]) }

    var calls: [Call] {
        get throws {
            let log = try control("/__log")["log"] as? [[String: Any]] ?? []
            return log.map { Call(method: $0["method"] as! String, path: $0["path"] as! String, body: $0["body"] as? [String: String] ?? [:]) }
        }
    }

    var authorizations: [String] { get throws { try control("/__log")["auth"] as? [String] ?? [] } }
    var commentCount: Int { get throws { try control("/__log")["comments"] as? Int ?? -1 } }
}
