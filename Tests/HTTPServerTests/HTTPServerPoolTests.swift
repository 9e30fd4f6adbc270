import Foundation
import HTTPServer
import XCTest

/// The worker-pool mode (the webhook server's): concurrent requests on a fixed set of threads, and 408 for a body
/// that arrives too slowly.
final class HTTPServerPoolTests: XCTestCase {
    /// Sends raw bytes over one TCP connection, with pauses, and returns everything the server answered.
    private func rawExchange(port: UInt16, parts: [(bytes: String, pauseAfter: Double)]) throws -> String {
        let socket = openSocket()
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        for part in parts {
            _ = part.bytes.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            Thread.sleep(forTimeInterval: part.pauseAfter)
        }
        var answer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &answer, answer.count, 0)
        return count > 0 ? String(decoding: answer[0..<count], as: UTF8.self) : ""
    }

    private func openSocket() -> Int32 { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }

    final class Statuses: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Int] = []
        func add(_ status: Int) { lock.withLock { list.append(status) } }
        var all: [Int] { lock.withLock { list } }
    }

    func testAPoolServesConcurrentRequestsAndASlowBodyGets408() throws {
        var configuration = HTTPServer.Configuration()
        configuration.threadPoolSize = 4
        configuration.bodyTimeoutSeconds = 0.3
        let server = try HTTPServer(configuration) { request in Response(status: 200, body: Data("got \(request.body.count)".utf8)) }
        defer { server.stop() }

        let statuses = Statuses()
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            statuses.add(TestHTTP.send("POST", "http://127.0.0.1:\(port)/", body: Data(count: 10), contentType: "text/plain", token: nil).status)
        }
        XCTAssertEqual(statuses.all, Array(repeating: 200, count: 16))

        let slow = try rawExchange(port: server.port, parts: [
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 0.6),
            ("defghij", 0.1),
        ])
        XCTAssertTrue(slow.hasPrefix("HTTP/1.1 408"), slow)
        XCTAssertTrue(slow.contains("request body too slow"), slow)
        let prompt = try rawExchange(port: server.port, parts: [("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 0)])
        XCTAssertTrue(prompt.hasPrefix("HTTP/1.1 200"), prompt)
    }
}
