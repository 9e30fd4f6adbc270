import Artifacts
import Foundation
import HTTPServer
import Model
import XCTest

final class ArtifactAPITests: XCTestCase {
    private var root: URL!
    private var api: ArtifactAPI!
    private let base = "/api/v1/namespaces/payments-staging/sessions/gh-1/artifacts"

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-artifact-api-\(UUID().uuidString)")
        let tokens: [String: ArtifactAPI.Caller] = [
            "runner": .init(username: "system:serviceaccount:payments-staging:session-runner", podName: "gh-1-run-abcde"),
            "other-pod": .init(username: "system:serviceaccount:payments-staging:session-runner", podName: "gh-2-run-zzzzz"),
            "other-namespace": .init(username: "system:serviceaccount:docs:session-runner", podName: "gh-1-run-abcde"),
            "alice": .init(username: "alice@acme.example", groups: ["payments-engineers"]),
            "mallory": .init(username: "mallory@evil.example"),
        ]
        api = ArtifactAPI(store: LocalArtifactStore(root: root.path, limits: ArtifactLimits(maxPerSession: 2, maxBytes: 64)),
                          authenticate: { tokens[$0] },
                          session: { namespace, name in namespace == "payments-staging" && name == "gh-1" ? .found(podName: "gh-1-run-abcde") : .notFound },
                          mayRead: { caller, _ in caller.groups.contains("payments-engineers") })
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func call(_ method: String, _ path: String, token: String?, body: String = "", headers: [String: String] = [:]) throws -> (Int, JSON?, Response) {
        var all = headers
        if let token { all["authorization"] = "Bearer \(token)" }
        let response = try XCTUnwrap(api.handle(Request(method: method, path: path, headers: all, body: Data(body.utf8))))
        guard case .bytes(let data) = response.body else { return (response.status, nil, response) }
        return (response.status, try? JSON(parsing: data), response)
    }

    func testOnlyTheSessionsOwnRunnerPodMayUpload() throws {
        XCTAssertEqual(try call("PUT", "\(base)/runner.log", token: "runner", body: "hello\n", headers: ["content-type": "text/plain"]).0, 201)
        for token in ["other-pod", "other-namespace", "alice"] {
            let (code, status, _) = try call("PUT", "\(base)/runner.log", token: token, body: "forged")
            XCTAssertEqual(code, 403, token)
            XCTAssertEqual(status?["reason"], "Forbidden")
            XCTAssertEqual(status?["kind"], "Status")
        }
        XCTAssertEqual(try call("PUT", "\(base)/runner.log", token: nil).0, 401)
        XCTAssertEqual(try call("PUT", "\(base)/runner.log", token: "unknown").0, 401)
        XCTAssertEqual(try call("PUT", "/api/v1/namespaces/payments-staging/sessions/gh-9/artifacts/x", token: "runner").0, 404)
        XCTAssertNil(api.handle(Request(method: "GET", path: "/api/v1/namespaces/payments-staging/sessions")), "not an artifact route")
    }

    func testPeopleWhoMayReadTheSessionListAndDownloadWithRanges() throws {
        _ = try call("PUT", "\(base)/runner.log", token: "runner", body: "line one\nline two\n", headers: ["content-type": "text/plain; charset=utf-8"])
        let (code, list, _) = try call("GET", base, token: "alice")
        XCTAssertEqual(code, 200)
        let item = try XCTUnwrap(list?["artifacts"]?.arrayValue?.first)
        XCTAssertEqual(item["name"], "runner.log")
        XCTAssertEqual(item["size"], 18)
        XCTAssertEqual(item["contentType"], "text/plain; charset=utf-8")
        XCTAssertEqual(item["downloadUrl"], .string("\(base)/runner.log"))
        XCTAssertEqual(try call("GET", base, token: "mallory").0, 403)

        let (_, _, whole) = try call("GET", "\(base)/runner.log", token: "alice")
        XCTAssertEqual(whole.headers["Content-Type"], "text/plain; charset=utf-8")
        XCTAssertEqual(whole.body, .bytes(Data("line one\nline two\n".utf8)))
        let (partCode, _, part) = try call("GET", "\(base)/runner.log", token: "alice", headers: ["range": "bytes=9-16"])
        XCTAssertEqual(partCode, 206)
        XCTAssertEqual(part.headers["Content-Range"], "bytes 9-16/18")
        XCTAssertEqual(part.body, .bytes(Data("line two".utf8)))
        let (outside, _, refused) = try call("GET", "\(base)/runner.log", token: "alice", headers: ["range": "bytes=100-"])
        XCTAssertEqual(outside, 416)
        XCTAssertEqual(refused.headers["Content-Range"], "bytes */18")
        XCTAssertEqual(try call("GET", "\(base)/runner.log", token: "alice", headers: ["range": "lines=1"]).0, 400)
        XCTAssertEqual(try call("GET", "\(base)/missing", token: "alice").0, 404)
    }

    func testLimitsAndBadNamesAnswerWithKubernetesStatuses() throws {
        let (invalid, status, _) = try call("PUT", "\(base)/.hidden", token: "runner", body: "x")
        XCTAssertEqual(invalid, 422)
        XCTAssertEqual(status?["reason"], "Invalid")
        XCTAssertEqual(try call("PUT", "\(base)/big", token: "runner", body: String(repeating: "x", count: 65)).0, 413)
        XCTAssertEqual(try call("PUT", "\(base)/a", token: "runner", body: "1").0, 201)
        XCTAssertEqual(try call("PUT", "\(base)/b", token: "runner", body: "2").0, 201)
        let (tooMany, message, _) = try call("PUT", "\(base)/c", token: "runner", body: "3")
        XCTAssertEqual(tooMany, 403)
        XCTAssertTrue(message?["message"]?.stringValue?.contains("already has 2 artifacts") == true)
        XCTAssertEqual(try call("DELETE", "\(base)/a", token: "runner").0, 405)
    }
}
