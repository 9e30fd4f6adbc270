import Foundation
import HTTPClient
import Model
import Support

/// Reads a Secret key from the cluster at send time (injected: the controller passes its Kubernetes client).
public typealias SecretLookup = @Sendable (SecretReference) throws -> [UInt8]

/// One attempt at a tenant callback: the address checked and pinned, the body signed, one POST.
struct WebhookSender: Sendable {
    let http: HTTPClient
    let addresses: AddressPolicy
    let secrets: SecretLookup
    let timeout: TimeInterval

    static func signature(secret: [UInt8], body: [UInt8]) -> String {
        "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: secret, message: body))
    }

    func send(_ entry: OutboxEntry, url: String, secret: SecretReference?, now: Date) -> AttemptResult {
        let pinned: AddressPolicy.Pinned
        do { pinned = try addresses.check(url) } catch { return .final(status: nil, error: error.description) }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("User-Agent", "tenantry-notifications"),
            ("X-Tenantry-Event", entry.event.rawValue),
            ("X-Tenantry-Delivery", entry.delivery),
        ]
        if let secret {
            let value: [UInt8]
            do { value = try secrets(secret) } catch {
                // The Secret may not exist yet; the delivery waits for it rather than going out unsigned.
                return .retry(status: nil, error: "cannot read the signing secret (\(secret)): \(error)", retryAfter: nil)
            }
            headers.append(("X-Tenantry-Signature-256", Self.signature(secret: value, body: entry.body)))
        }
        let request = HTTPRequest(method: "POST", url: url, headers: headers, body: entry.body, timeout: timeout,
                                  resolve: [pinned.resolveEntry])
        do {
            let response = try http.send(request)
            return AttemptResult.of(status: response.status, headers: response.headers, now: now)
        } catch {
            return .retry(status: nil, error: "no answer from \(AddressPolicy.display(url)): \(error.message)", retryAfter: nil)
        }
    }
}
