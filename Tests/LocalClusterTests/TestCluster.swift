import ApplyTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalCluster
import Model
import XCTest

/// A local cluster in a fresh temporary directory, served over plain HTTP (URLSession on Linux cannot
/// trust a custom CA), with a small synchronous client.
final class TestCluster {
    let directory: String
    private(set) var server: LocalClusterServer
    let options: LocalClusterServer.Options
    /// Latency, 429, 500 and dropped watches for the next requests; off until a test injects a fault.
    let faults = FaultInjection()

    init(eventRetention: Int = 10_000, tls: Bool = false, directory: String? = nil,
         configure: (inout LocalClusterServer.Options) -> Void = { _ in }) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("lc-\(UUID().uuidString)").path
        var options = LocalClusterServer.Options()
        options.eventRetention = eventRetention
        options.tls = tls
        options.requestHook = faults.hook
        configure(&options)
        self.options = options
        server = try LocalClusterServer.start(directory: self.directory, options: options)
    }

    /// Stops and starts again on the same directory (a new port).
    func restart() throws {
        server.stop()
        server = try LocalClusterServer.start(directory: directory, options: options)
    }

    func stop(removingData: Bool = true) {
        server.stop()
        if removingData { try? FileManager.default.removeItem(atPath: directory) }
    }

    @discardableResult
    func request(_ method: String, _ path: String, json body: JSON? = nil, text: String? = nil,
                 contentType: String = "application/json", token: String? = nil, accept: String? = nil) -> TestResponse {
        TestHTTP.send(method, server.url + path, body: body.map { Data($0.compactText.utf8) } ?? text.map { Data($0.utf8) },
                      contentType: contentType, token: token ?? server.token, accept: accept)
    }

    @discardableResult
    func apply(_ path: String, _ object: JSON, manager: String, force: Bool = false, extra: String = "") -> TestResponse {
        request("PATCH", path + "?fieldManager=\(manager)" + (force ? "&force=true" : "") + extra, json: object, contentType: "application/apply-patch+yaml")
    }

    func createNamespace(_ name: String) {
        let response = request("POST", "/api/v1/namespaces", json: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        XCTAssertEqual(response.status, 201, response.text)
    }

    func watch(_ path: String) -> WatchStream { WatchStream(url: server.url + path, token: server.token) }
}

struct TestResponse {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSON { (try? JSON(parsing: body)) ?? .null }
}

enum TestHTTP {
    /// One request, waited for. Failures to connect come back as status 0 with the error as text.
    static func send(_ method: String, _ url: String, body: Data?, contentType: String, token: String?, accept: String? = nil,
                     headers extra: [String: String] = [:]) -> TestResponse {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let box = ResultBox()
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            let http = response as? HTTPURLResponse
            var headers: [String: String] = [:]
            for (key, value) in http?.allHeaderFields ?? [:] { headers[String(describing: key).lowercased()] = String(describing: value) }
            box.set(TestResponse(status: http?.statusCode ?? 0, headers: headers,
                                 body: data ?? Data((error.map { "\($0)" } ?? "").utf8)))
        }
        task.resume()
        return box.wait()
    }
}

private final class ResultBox: @unchecked Sendable {
    // Unchecked: `value` is written once under the semaphore's happens-before edge.
    private let done = DispatchSemaphore(value: 0)
    private var value: TestResponse?
    func set(_ response: TestResponse) { value = response; done.signal() }
    func wait() -> TestResponse { done.wait(); return value! }
}

/// A watch read line by line as the server streams it.
final class WatchStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // Unchecked: `buffer`, `ended` are touched only with `condition` locked.
    private let condition = NSCondition()
    private var buffer = Data()
    private var ended = false
    private var session: URLSession!
    private(set) var status = 0

    init(url: String, token: String) {
        super.init()
        session = URLSession(configuration: .default, delegate: self, delegateQueue: nil)
        var request = URLRequest(url: URL(string: url)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 600
        session.dataTask(with: request).resume()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        condition.withLock { status = (response as? HTTPURLResponse)?.statusCode ?? 0 }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        condition.withLock {
            buffer.append(data)
            condition.broadcast()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        condition.withLock {
            ended = true
            condition.broadcast()
        }
    }

    /// The next event, skipping heartbeat blank lines; nil when the stream ended (or after a minute,
    /// a safety net so a broken server fails the test instead of hanging it).
    func next() -> (type: String, object: JSON)? {
        condition.withLock {
            let deadline = Date().addingTimeInterval(60)
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer.removeSubrange(buffer.startIndex...newline)
                    guard !line.allSatisfy({ $0 == 0x20 }), let event = try? JSON(parsing: Data(line)) else { continue }
                    return (event["type"]?.stringValue ?? "", event["object"] ?? .null)
                }
                if ended || !condition.wait(until: deadline) { return nil }
            }
        }
    }

    func close() { session.invalidateAndCancel() }
}

extension JSON {
    func at(_ path: String...) -> JSON? {
        var current: JSON? = self
        for key in path { current = current?[key] }
        return current
    }
}

func configMap(_ name: String, data: JSON = ["k": "v"], labels: JSON? = nil) -> JSON {
    var metadata: JSONObject = ["name": .string(name)]
    if let labels { metadata["labels"] = labels }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": data]
}

/// Polls a condition until it holds or the deadline passes (a safety net against a hung test, not a timing claim).
func eventually(within seconds: TimeInterval = 60, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}
