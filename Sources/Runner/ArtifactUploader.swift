import Foundation
import HTTPClient
import Model

/// PUTs artifacts to Tenantry (`PUT <artifactsURL>/<name>`) with the pod's projected ServiceAccount token, read
/// from its file at each upload since the kubelet rotates it. The pod never holds storage credentials.
struct ArtifactUploader {
    let artifactsURL: String
    let tokenFile: String
    let client: HTTPClient

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Path-segment escaping: the name is one segment, so `/` (never in a valid name) would be escaped too.
    static func escape(_ name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            let char = Character(UnicodeScalar(byte))
            if char.isASCII && (char.isLetter || char.isNumber || "-._~".contains(char)) { out.append(char) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    func upload(name: String, bytes: [UInt8], contentType: String) throws(Failure) {
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw Failure(description: "cannot read the ServiceAccount token at \(tokenFile): \(error.localizedDescription)")
        }
        let url = "\(artifactsURL)/\(Self.escape(name))"
        let request = HTTPRequest(method: "PUT", url: url, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", contentType)],
                                  body: bytes, timeout: 300)
        let response: HTTPResponse
        do { response = try client.send(request) } catch { throw Failure(description: "uploading \(name) to \(url): \(error.message)") }
        guard (200..<300).contains(response.status) else {
            // Tenantry answers with a Kubernetes Status: its message says what was wrong.
            let message = (try? JSON(parsing: response.text))?["message"]?.stringValue ?? String(response.text.prefix(200))
            throw Failure(description: "uploading \(name) to \(url): HTTP \(response.status): \(message)")
        }
    }
}
