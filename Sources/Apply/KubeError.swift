import HTTPClient
import Model

/// Why a request to the API server failed.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with a Status (after retries for 429 and 5xx).
    case status(KubeStatus, object: ObjectReference?, step: String)
    /// No answer: connection refused, TLS, timeout, DNS.
    case transport(HTTPClientError, server: String, step: String)
    /// The server does not serve this apiVersion and kind, even after discovery was refreshed.
    case unknownKind(apiVersion: String, kind: String, server: String)
    /// The answer was not what the API promises.
    case malformed(step: String, message: String)

    public var status: KubeStatus? {
        if case .status(let status, _, _) = self { return status }
        return nil
    }

    public var isNotFound: Bool { status?.code == 404 }

    public var isConflict: Bool { status?.isFieldManagerConflict ?? false }

    public var description: String {
        switch self {
        case .status(let status, let object, let step):
            let prefix = object.map { "\($0) \(step) failed: " } ?? (step.isEmpty ? "" : "\(step) failed: ")
            return prefix + status.rendered(object: object)
        case .transport(let error, let server, let step):
            return "\(step) failed: \(error.advice(server: server, configuredIn: "kubeconfig")) (\(error.message))"
        case .unknownKind(let apiVersion, let kind, let server):
            return "the server \(server) does not serve \(kind) in \(apiVersion); is its CustomResourceDefinition installed? (`kubectl api-resources` lists what it serves)"
        case .malformed(let step, let message):
            return "\(step) failed: the server's answer could not be read: \(message)"
        }
    }
}
