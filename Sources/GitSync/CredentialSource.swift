/// Where the credentials for the repository come from. Secrets themselves are only read when
/// fetching or pushing (see `Credentials.load`) and are never stored in the configuration.
public enum CredentialSource: Sendable, Hashable {
    case none
    /// An HTTPS token sent as the password of HTTP basic auth under `username`
    /// (`x-access-token` by default, which GitHub expects for app tokens and GitLab accepts).
    case token(TokenLocation, username: String)
    /// An SSH private key file; the public key defaults to libgit2's derivation from the private one.
    case sshKey(privateKeyFile: String, publicKeyFile: String?, passphraseFile: String?, username: String?)

    public static let defaultTokenUsername = "x-access-token"
}

/// Where a token is read from.
public enum TokenLocation: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case environment(String)

    public var description: String {
        switch self {
        case .file(let path): return "token file \(path)"
        case .environment(let name): return "environment variable \(name)"
        }
    }
}
