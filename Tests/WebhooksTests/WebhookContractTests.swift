import Foundation
import HTTPClient
import Model
import Support
import TestSupport
import Webhooks
import XCTest

/// The server's answers checked against specs/contracts/webhooks.yaml: every status it gives must be
/// declared for the operation, and every JSON body must satisfy the declared schema (required fields,
/// types, enums, patterns, oneOf). Checked in Swift, and again with Python's jsonschema and
/// openapi-spec-validator when they are installed (scripts/setup.sh).
final class WebhookContractTests: XCTestCase {
    struct Exchange {
        let template: String
        let method: String
        let status: Int
        let contentType: String
        let body: [UInt8]
    }

    static let specPath = PackagePaths.root.appendingPathComponent("specs/contracts/webhooks.yaml").path

    static func loadSpec() throws -> JSON {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: specPath)))
        return try XCTUnwrap(try YAML.parseDocument(bytes)?.json)
    }

    /// One of every kind of answer, from a real server.
    private func exchanges() throws -> [Exchange] {
        let fixture = try WebhookFixture(bodyLimits: [.github: 1 << 20, .jira: 1 << 20, .slack: 1 << 20, .generic: 256])
        var out: [Exchange] = []
        func record(_ template: String, _ response: HTTPResponse, method: String = "POST") {
            out.append(Exchange(template: template, method: method.lowercased(), status: response.status,
                                contentType: response.headers["content-type"] ?? "", body: response.body))
        }
        let deliver = "/api/v1/webhooks/{source}"
        let validate = "/api/v1/webhooks/{source}/validate"
        let labeled = try WebhookFixture.sample("issues.labeled.json")
        record(deliver, try fixture.github("issues", body: labeled, delivery: "c-1"))                       // 202 accepted
        record(deliver, try fixture.github("issues", body: labeled, delivery: "c-1"))                       // 202 duplicate
        record(deliver, try fixture.github("issues", body: labeled, delivery: "c-2"))                       // 202 duplicate intent
        record(deliver, try fixture.slack(body: Array("payload=%7B%22type%22%3A%22block_actions%22%7D".utf8),
                                          contentType: "application/x-www-form-urlencoded"))             // 200 interaction ignored
        record(deliver, try fixture.github("push", body: try WebhookFixture.sample("push.json")))           // 202 ignored
        record(deliver, try fixture.github("ping", body: try WebhookFixture.sample("ping.json")))           // 200 pong
        record(deliver, try fixture.slack(body: Array(#"{"type":"url_verification","challenge":"abc"}"#.utf8)))  // 200 challenge
        record(deliver, try fixture.github("issues", body: Array("nope".utf8)))                              // 400
        record(deliver, try fixture.generic(key: nil, body: ["description": "x"]))                          // 400 missing key
        record(deliver, try fixture.github("issues", body: labeled, signature: "sha256=00"))                 // 401
        record(deliver, try fixture.github("issues", body: labeled, key: TestSecrets.octoGitHubKey))         // 403 conflict
        record(deliver, try fixture.generic(key: TestSecrets.helloGenericKey, body: ["description": "x", "model": "claude-haiku-4-5"]))  // 403 policy
        record(deliver, try fixture.send("POST", "/api/v1/webhooks/gitlab", body: Array("{}".utf8)))        // 404
        // 405 is declared under the path's one operation (POST): OpenAPI has no place for methods a path lacks.
        record(deliver, try fixture.send("GET", "/api/v1/webhooks/github"))
        record(deliver, try fixture.send("POST", "/api/v1/webhooks/generic", body: Array(repeating: 32, count: 1000)))  // 413
        for index in 0..<3 { record(deliver, try fixture.generic(key: TestSecrets.rateyKey, body: ["description": .string("r\(index)")])) }  // 429
        record(validate, try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "x"], validate: true))          // 200
        record(validate, try fixture.generic(key: TestSecrets.budgetKey, body: ["description": "x", "model": "m"], validate: true))  // 400 violations
        record(validate, try fixture.generic(key: "k", body: ["description": "x"], validate: true))                           // 401
        record("/healthz", try fixture.send("GET", "/healthz"), method: "GET")
        record("/readyz", try fixture.send("GET", "/readyz"), method: "GET")
        record("/metrics", try fixture.send("GET", "/metrics"), method: "GET")
        let unready = try WebhookFixture(loadTable: false)
        record("/readyz", try unready.send("GET", "/readyz"), method: "GET")
        record(deliver, try unready.github("issues", body: labeled))                                           // 503
        XCTAssertEqual(Set(out.map(\.status)), [200, 202, 400, 401, 403, 404, 405, 413, 429, 503])
        return out
    }

    func testEveryAnswerIsDeclaredAndMatchesItsSchema() throws {
        let spec = try Self.loadSpec()
        for exchange in try exchanges() {
            let what = "\(exchange.method.uppercased()) \(exchange.template) → \(exchange.status)"
            guard let operation = spec["paths"]?[exchange.template]?[exchange.method] else {
                XCTFail("\(what): the operation is not in the contract"); continue
            }
            guard var response = operation["responses"]?[String(exchange.status)] else {
                XCTFail("\(what): status not declared"); continue
            }
            if let ref = response["$ref"]?.stringValue { response = try XCTUnwrap(resolve(ref, in: spec)) }
            guard let content = response["content"]?.objectValue else { continue }
            let mediaType = exchange.contentType.split(separator: ";").first.map(String.init) ?? ""
            guard let media = content[mediaType] else {
                XCTFail("\(what): content type \(mediaType) not declared (\(content.keys))"); continue
            }
            guard mediaType == "application/json", let schema = media["schema"] else { continue }
            let body = try JSON(parsing: Data(exchange.body))
            let problems = SchemaCheck(spec: spec).problems(body, schema, path: "$")
            XCTAssertEqual(problems, [], "\(what): \(String(decoding: exchange.body, as: UTF8.self))")
        }
    }

    /// The same answers through Python: openapi-spec-validator on the file, jsonschema on each body.
    func testTheContractIsValidOpenAPIAndBodiesPassJsonschema() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import jsonschema, openapi_spec_validator, yaml"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        // scripts/setup.sh installs them: without them the setup is broken, and the test says so (no skip).
        guard probe.terminationStatus == 0 else {
            return XCTFail("python3 with jsonschema, openapi-spec-validator and PyYAML is not installed; run scripts/setup.sh")
        }
        let samples: [JSON] = try exchanges().compactMap { exchange in
            guard exchange.contentType.hasPrefix("application/json") else { return nil }
            return ["path": .string(exchange.template), "method": .string(exchange.method), "status": .string(String(exchange.status)),
                    "body": try JSON(parsing: Data(exchange.body))]
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString).json")
        try JSON.array(samples).compactText.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import json, sys, yaml, jsonschema
        from openapi_spec_validator import validate
        spec = yaml.safe_load(open(sys.argv[1]))
        validate(spec)
        failures = 0
        for sample in json.load(open(sys.argv[2])):
            response = spec['paths'][sample['path']][sample['method']]['responses'][sample['status']]
            if '$ref' in response:
                name = response['$ref'].split('/')[-1]
                response = spec['components']['responses'][name]
            schema = dict(response['content']['application/json']['schema'])
            schema['components'] = spec['components']
            try:
                jsonschema.validate(sample['body'], schema, cls=jsonschema.Draft4Validator)
            except jsonschema.ValidationError as error:
                failures += 1
                print(sample['method'], sample['path'], sample['status'], error.message)
        print('checked', failures)
        sys.exit(1 if failures else 0)
        """
        let (status, text) = try runTool(["python3", "-c", script, Self.specPath, file.path])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("checked 0"), text)
    }

    func testTheSchemaCheckCatchesAMissingFieldAWrongEnumAndAnAmbiguousOneOf() throws {
        let spec = try Self.loadSpec()
        let check = SchemaCheck(spec: spec)
        let accepted: JSON = ["$ref": "#/components/schemas/WebhookAccepted"]
        XCTAssertEqual(check.problems(["sessionId": "s", "namespace": "ns", "status": "accepted"], accepted, path: "$"),
                       ["$: missing required estimatedStartTime"])
        XCTAssertEqual(check.problems(["sessionId": "s", "namespace": "ns", "status": "done", "estimatedStartTime": "t"], accepted, path: "$").count, 1)
        let either = try XCTUnwrap(spec["paths"]?["/api/v1/webhooks/{source}"]?["post"]?["responses"]?["202"]?["content"]?["application/json"]?["schema"])
        XCTAssertEqual(check.problems(["status": "ignored", "reason": "r"], either, path: "$"), [])
        XCTAssertEqual(check.problems(["status": "nothing"], either, path: "$").count, 1)
    }

    private func resolve(_ ref: String, in spec: JSON) -> JSON? {
        var node: JSON? = spec
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }
}

/// A small checker for the OpenAPI 3.0 schema subset the contract uses.
struct SchemaCheck {
    let spec: JSON

    func problems(_ value: JSON, _ schema: JSON, path: String) -> [String] {
        if let ref = schema["$ref"]?.stringValue {
            var node: JSON? = spec
            for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
            guard let resolved = node else { return ["\(path): unresolved \(ref)"] }
            return problems(value, resolved, path: path)
        }
        if let options = schema["oneOf"]?.arrayValue {
            let matching = options.filter { problems(value, $0, path: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path): matches \(matching) of the oneOf schemas, not exactly one"]
        }
        if value == .null { return schema["nullable"] == .bool(true) || schema["type"] == nil ? [] : ["\(path): null"] }
        var found: [String] = []
        switch schema["type"]?.stringValue {
        case "object":
            guard let object = value.objectValue else { return ["\(path): not an object"] }
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[key] == nil {
                found.append("\(path): missing required \(key)")
            }
            for (key, child) in object.pairs {
                if let property = schema["properties"]?[key] { found += problems(child, property, path: "\(path).\(key)") }
            }
        case "array":
            guard let items = value.arrayValue else { return ["\(path): not an array"] }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { found += problems(item, itemSchema, path: "\(path)[\(index)]") }
            }
        case "string":
            guard let text = value.stringValue else { return ["\(path): not a string"] }
            if let pattern = schema["pattern"]?.stringValue, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): \"\(text)\" does not match \(pattern)")
            }
        case "boolean":
            guard case .bool = value else { return ["\(path): not a boolean"] }
        case "integer":
            guard case .int = value else { return ["\(path): not an integer"] }
        default: break
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            found.append("\(path): \(value.compactText) is not one of \(JSON.array(options).compactText)")
        }
        return found
    }
}
