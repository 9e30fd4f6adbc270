import Foundation
import HTTPClient
import TestSupport
import XCTest

/// moto's S3 server (from PyPI, installed by scripts/setup.sh) on a free loopback port, with IAM authentication on:
/// the first four actions (a user, its policy, its access key, the bucket) are made unauthenticated by boto3, and
/// every request after that must carry a valid SigV4 signature from that user's key.
final class MotoServer {
    let endpoint: String
    let bucket = "tenantry-artifacts"
    let accessKeyID: String
    let secretAccessKey: String
    private let process: Process

    init() throws {
        let port = try MotoServer.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Poll until it answers (moto takes a second or two to start), with a generous deadline.
        let client = HTTPClient(connectTimeout: 2)
        let deadline = Date().addingTimeInterval(120)
        var ready = false
        while Date() < deadline, process.isRunning {
            if let response = try? client.send(HTTPRequest(method: "GET", url: "\(endpoint)/moto-api/", timeout: 5)), response.status > 0 {
                ready = true
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard ready else {
            process.terminate()
            throw NSError(domain: "moto", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "moto_server did not answer on \(endpoint) within 120 s; scripts/setup.sh installs it (pip install 'moto[server]')"])
        }
        let setup = """
        import boto3, json, sys
        kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="tenantry")
        iam.put_user_policy(UserName="tenantry", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="tenantry")["AccessKey"]
        boto3.client("s3", **kw).create_bucket(Bucket=sys.argv[2])
        print(key["AccessKeyId"], key["SecretAccessKey"])
        """
        let result = try Tool.run("python3", ["-c", setup, endpoint, bucket])
        let words = result.output.split(whereSeparator: \.isWhitespace)
        guard result.code == 0, words.count >= 2 else {
            process.terminate()
            throw NSError(domain: "moto", code: Int(result.code), userInfo: [NSLocalizedDescriptionKey: "moto setup failed: \(result.output)"])
        }
        accessKeyID = String(words[words.count - 2])
        secretAccessKey = String(words[words.count - 1])
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// A port the kernel just handed out and released.
    static func freePort() throws -> Int {
        let result = try Tool.run("python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        guard result.code == 0, let port = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NSError(domain: "moto", code: 1, userInfo: [NSLocalizedDescriptionKey: "no free port: \(result.output)"])
        }
        return port
    }
}
