import Foundation

/// A token named by where it lives, read when it is needed and never printed.
public enum Credential: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case environment(String)
    case secret(SecretReference)

    public var description: String {
        switch self {
        case .file(let path): return "the token file \(path)"
        case .environment(let name): return "the environment variable \(name)"
        case .secret(let reference): return reference.description
        }
    }

    func value(secrets: SecretLookup, environment: [String: String] = ProcessInfo.processInfo.environment) throws(DeliveryRefusal) -> String {
        let raw: String?
        switch self {
        case .file(let path): raw = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
        case .environment(let name): raw = environment[name]
        case .secret(let reference): raw = (try? secrets(reference)).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let token = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw DeliveryRefusal("cannot read a token from \(self); check that it exists and is not empty")
        }
        return token
    }
}
