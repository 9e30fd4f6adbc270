import Foundation
import HTTPClient
import XCTest

/// The libcurl client against a small HTTP server on loopback (Python's http.server, started per test).
final class HTTPClientTests: XCTestCase {
    private var server: Process!
    private var base = ""

    private static let script = #"""
    import gzip, json, sys, time
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def answer(self, status, body, headers={}):
            self.send_response(status)
            for k, v in headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/gzip":
                self.answer(200, gzip.compress(b"squeezed " * 100), {"Content-Encoding": "gzip"})
            elif self.path == "/conflict":
                self.answer(409, b'{"kind":"Status","reason":"Conflict"}', {"Set-Cookie": "a=1", "X-Multi": "one"})
            elif self.path == "/stream":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(3):
                    line = ("event %d\n" % i).encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line)); self.wfile.flush(); time.sleep(0.05)
                self.wfile.write(b"0\r\n\r\n")
            elif self.path == "/slow":
                time.sleep(2); self.answer(200, b"late")
            else:
                echo = {"method": self.command, "path": self.path, "body": body.decode(),
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "port": self.client_address[1]}
                self.answer(200, json.dumps(echo).encode(), {"Content-Type": "application/json"})
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    override func setUpWithError() throws {
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", Self.script]
        let pipe = Pipe()
        server.standardOutput = pipe
        try server.run()
        var line = Data()
        while !line.contains(10) { line.append(pipe.fileHandleForReading.availableData) }
        base = "http://127.0.0.1:" + String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    override func tearDown() {
        server.terminate()
        server.waitUntilExit()
    }

    private func echo(_ response: HTTPResponse) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testMethodsHeadersAndBodiesGoThroughAsGiven() throws {
        let client = HTTPClient()
        let body = Array(#"{"a":1,"nul":"\u0000"}"#.utf8) + [0, 1, 2].map { _ in UInt8(ascii: "x") }
        let response = try client.send(HTTPRequest(method: "PATCH", url: base + "/objects/x?fieldManager=tenantry",
                                                   headers: [("Content-Type", "application/apply-patch+yaml"), ("Authorization", "Bearer t0ken")],
                                                   body: body))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        let echoed = try echo(response)
        XCTAssertEqual(echoed["method"] as? String, "PATCH")
        XCTAssertEqual(echoed["path"] as? String, "/objects/x?fieldManager=tenantry")
        XCTAssertEqual(echoed["body"] as? String, String(decoding: body, as: UTF8.self))
        let headers = try XCTUnwrap(echoed["headers"] as? [String: String])
        XCTAssertEqual(headers["content-type"], "application/apply-patch+yaml")
        XCTAssertEqual(headers["authorization"], "Bearer t0ken")
        XCTAssertNil(headers["expect"])
        XCTAssertEqual(try echo(try client.send(HTTPRequest(method: "DELETE", url: base + "/x")))["method"] as? String, "DELETE")
    }

    func testConnectionsAreReused() throws {
        let client = HTTPClient()
        let ports = try (0..<3).map { _ in try echo(try client.send(HTTPRequest(method: "GET", url: base + "/")))["port"] as? Int }
        XCTAssertEqual(Set(ports.compactMap { $0 }).count, 1, "one keep-alive connection: \(ports)")
    }

    func testGzipIsDecodedAndErrorStatusesAreAnswersNotFailures() throws {
        let client = HTTPClient()
        XCTAssertEqual(try client.send(HTTPRequest(method: "GET", url: base + "/gzip")).text, String(repeating: "squeezed ", count: 100))
        let conflict = try client.send(HTTPRequest(method: "PUT", url: base + "/conflict", body: []))
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.text, #"{"kind":"Status","reason":"Conflict"}"#)
        XCTAssertEqual(conflict.headers["x-multi"], "one")
    }

    func testStreamingHandsOverPiecesAsTheyArriveAndCanStop() throws {
        let client = HTTPClient()
        var received = ""
        let (status, _) = try client.stream(HTTPRequest(method: "GET", url: base + "/stream")) { piece in
            received += String(decoding: piece, as: UTF8.self)
            return true
        }
        XCTAssertEqual(status, 200)
        XCTAssertEqual(received, "event 0\nevent 1\nevent 2\n")
        var pieces = 0
        let stopped = try client.stream(HTTPRequest(method: "GET", url: base + "/stream")) { _ in
            pieces += 1
            return false
        }
        XCTAssertEqual(stopped.status, 200)
        XCTAssertEqual(pieces, 1)
    }

    func testFailuresSayWhatAndWhereWithoutTheQuery() throws {
        let client = HTTPClient(connectTimeout: 2)
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/api?token=s3cret"))) { error in
            let failure = error as? HTTPClientError
            XCTAssertEqual(failure?.kind, .connect)
            XCTAssertEqual(failure?.url, "http://127.0.0.1:1/api")
            XCTAssertFalse("\(error)".contains("s3cret"))
        }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: base + "/slow", timeout: 0.3))) { error in
            XCTAssertEqual((error as? HTTPClientError)?.kind, .timeout)
        }
    }
}
