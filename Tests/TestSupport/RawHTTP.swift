import Foundation

/// One TCP connection to 127.0.0.1 driven byte by byte, for what an HTTP client library will not do: headers sent
/// slowly, a body that stops, idle connections held open, an `Expect: 100-continue` read before the body.
public final class RawConnection {
    public let socket: Int32
    private var received = Data()

    /// nil when the connection is refused or reset at once.
    public init?(port: UInt16) {
        socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
    }

    deinit { close(socket) }

    /// False when the server has closed or reset the connection.
    @discardableResult
    public func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    @discardableResult
    public func send(_ bytes: Data) -> Bool {
        bytes.withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
    }

    /// Reads what has arrived within `seconds` (all of it once something came, up to a short quiet gap), without
    /// sending anything meanwhile. Everything received so far on this connection.
    @discardableResult
    public func read(waiting seconds: Double) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var quietSince: Date?
        while Date() < deadline {
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) > 0 else {
                if let quietSince, Date().timeIntervalSince(quietSince) > 0.2 { break }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { closedByServer = true; break }
            received.append(contentsOf: buffer[0..<count])
            quietSince = Date()
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether the server closed the connection (or reset it) during a read.
    public private(set) var closedByServer = false

    /// Sends `bytes` one at a time, `interval` seconds apart, until the server answers or closes (or the bytes run
    /// out): what arrived, and how many bytes were sent by then.
    public func trickle(_ text: String, interval: Double) -> (answer: String, sent: Int) {
        var sent = 0
        for byte in Array(text.utf8) {
            let answer = read(waiting: interval)
            if !answer.isEmpty || closedByServer { return (answer, sent) }
            guard send(Data([byte])) else { return (read(waiting: 1), sent) }
            sent += 1
        }
        return (read(waiting: interval), sent)
    }
}

/// The parts of a raw HTTP/1.1 answer a test checks.
public struct RawAnswer {
    public let status: Int
    public let headers: [String: String]
    public let body: String

    public init?(_ text: String) {
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = String(text[split.upperBound...])
    }
}

/// A python3 child holding `count` idle connections to 127.0.0.1:`port` until stopped: a separate process, so the
/// two ends do not share one descriptor limit.
public final class IdleConnectionHolder {
    private let process = Process()
    private let input = Pipe()

    public init(port: UInt16, count: Int) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import socket, sys
            held = [socket.create_connection(("127.0.0.1", \(port))) for _ in range(\(count))]
            sys.stdin.read()
            """]
        process.standardInput = input
        try process.run()
    }

    public func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
