import Foundation
import Model
import Support

/// The shared secrets GitHub, Jira and Slack sign their deliveries with. Read from files or environment
/// variables at start, never from git; never printed (`description` masks them).
public struct WebhookSecrets: Sendable, Hashable, CustomStringConvertible {
    public var github: [UInt8]?
    public var jira: [UInt8]?
    /// Slack's "signing secret".
    public var slack: [UInt8]?

    public init(github: String? = nil, jira: String? = nil, slack: String? = nil) {
        self.github = github.map { Array($0.utf8) }
        self.jira = jira.map { Array($0.utf8) }
        self.slack = slack.map { Array($0.utf8) }
    }

    public static let environmentNames: [WebhookSource: String] = [
        .github: "TENANTRY_GITHUB_WEBHOOK_SECRET", .jira: "TENANTRY_JIRA_WEBHOOK_SECRET", .slack: "TENANTRY_SLACK_SIGNING_SECRET",
    ]

    public func secret(for source: WebhookSource) -> [UInt8]? {
        switch source {
        case .github: github
        case .jira: jira
        case .slack: slack
        case .generic: nil
        }
    }

    mutating func set(_ source: WebhookSource, _ value: String) {
        switch source {
        case .github: github = Array(value.utf8)
        case .jira: jira = Array(value.utf8)
        case .slack: slack = Array(value.utf8)
        case .generic: break
        }
    }

    public var description: String {
        let configured = WebhookSource.allCases.filter { secret(for: $0) != nil }.map { "\($0.rawValue)=***" }
        return "WebhookSecrets(\(configured.joined(separator: ", ")))"
    }

    /// Environment variables first, then each `source=path` file (a file wins over the environment).
    /// A file's content is the secret with surrounding whitespace removed.
    public static func load(files: [WebhookSource: String], environment: [String: String]) throws -> WebhookSecrets {
        var secrets = WebhookSecrets()
        for (source, name) in environmentNames {
            if let value = environment[name], !value.isEmpty { secrets.set(source, value) }
        }
        for (source, path) in files.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError("cannot read the \(source.rawValue) secret file \(path); check the path given to --secret-file \(source.rawValue)=PATH and its permissions")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else {
                throw UsageError("the \(source.rawValue) secret file \(path) is empty; put the webhook secret in it (one line)")
            }
            secrets.set(source, value)
        }
        return secrets
    }
}

/// Proves who sent a delivery: GitHub and Jira HMAC-SHA256 of the raw body, Slack's v0 signature over
/// `v0:{timestamp}:{body}` with a five-minute replay window. Comparisons are constant-time.
public enum SenderVerification {
    /// Slack refuses requests whose timestamp is further than this from now, either way.
    public static let slackReplayWindow: TimeInterval = 300

    public static func verifyGitHub(headers: [String: String], body: Data, secret: [UInt8]?) throws(WebhookFailure) {
        try verifyHubSignature(header: "X-Hub-Signature-256", value: headers["x-hub-signature-256"], body: body, secret: secret, sender: "GitHub")
    }

    /// Jira Cloud signs with `X-Hub-Signature: sha256=<hex>` when the webhook has a secret.
    public static func verifyJira(headers: [String: String], body: Data, secret: [UInt8]?) throws(WebhookFailure) {
        try verifyHubSignature(header: "X-Hub-Signature", value: headers["x-hub-signature"], body: body, secret: secret, sender: "Jira")
    }

    public static func verifySlack(headers: [String: String], body: Data, secret: [UInt8]?, now: Date) throws(WebhookFailure) {
        guard let secret else { throw noSecret("Slack") }
        guard let signature = headers["x-slack-signature"], let stamp = headers["x-slack-request-timestamp"] else {
            throw WebhookFailure(401, .invalidSignature, "missing X-Slack-Signature or X-Slack-Request-Timestamp; Slack signs every request with the app's signing secret")
        }
        guard let seconds = Int64(stamp.trimmingCharacters(in: .whitespaces)) else {
            throw WebhookFailure(401, .invalidSignature, "X-Slack-Request-Timestamp is not a Unix time in seconds")
        }
        let age = now.timeIntervalSince1970 - Double(seconds)
        guard abs(age) <= slackReplayWindow else {
            throw WebhookFailure(401, .staleRequest,
                                 "X-Slack-Request-Timestamp is \(Int(age)) seconds from the server's clock; requests older than 5 minutes are refused as possible replays (check the clocks if this is a fresh request)",
                                 details: ["ageSeconds": .int(Int(age)), "windowSeconds": .int(Int(slackReplayWindow))])
        }
        guard signature.hasPrefix("v0=") else {
            throw WebhookFailure(401, .invalidSignature, "X-Slack-Signature must start with v0=")
        }
        var message = Array("v0:\(seconds):".utf8)
        message.append(contentsOf: body)
        let expected = "v0=" + Crypto.hex(Crypto.hmacSHA256(key: secret, message: message))
        guard Crypto.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
            throw WebhookFailure(401, .invalidSignature, "X-Slack-Signature does not match the body; check the Slack signing secret given to tenantry serve")
        }
    }

    private static func verifyHubSignature(header: String, value: String?, body: Data, secret: [UInt8]?, sender: String) throws(WebhookFailure) {
        guard let secret else { throw noSecret(sender) }
        guard let value, value.hasPrefix("sha256=") else {
            throw WebhookFailure(401, .invalidSignature, "missing or malformed \(header) (expected sha256=<hex>); configure the \(sender) webhook with a secret")
        }
        let expected = "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: secret, message: body))
        guard Crypto.constantTimeEquals(Array(expected.utf8), Array(value.lowercased().utf8)) else {
            throw WebhookFailure(401, .invalidSignature, "\(header) does not match the body; check that the \(sender) webhook secret equals the one given to tenantry serve")
        }
    }

    private static func noSecret(_ sender: String) -> WebhookFailure {
        WebhookFailure(401, .invalidSignature, "this server has no \(sender) webhook secret, so no \(sender) delivery can be verified; start tenantry serve with --secret-file or the environment variable")
    }

    /// The signature headers a sender would attach, for tests and the benchmark.
    public static func githubSignature(body: [UInt8], secret: String) -> String {
        "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: body))
    }

    public static func slackSignature(body: [UInt8], timestamp: Int64, secret: String) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        return "v0=" + Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: message))
    }
}
