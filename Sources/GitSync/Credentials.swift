import Foundation

/// Credentials read for one fetch or push, with the redaction that hides them.
struct LoadedCredentials: Sendable {
    let git: GitCredentials?
    let redaction: Redaction
}

extension CredentialSource {
    /// Reads the secrets this source points at. Errors name the file or variable, never its content.
    func load(for url: String, environment: [String: String]) throws(SourceError) -> LoadedCredentials {
        var redaction = Redaction()
        if let password = Self.passwordInURL(url) { redaction.add(password) }
        func fail(_ message: String) -> SourceError {
            SourceError(.credentials(redaction.apply(message)), url: url)
        }
        switch self {
        case .none:
            return LoadedCredentials(git: nil, redaction: redaction)
        case .token(let location, let username):
            let token: String
            switch location {
            case .file(let path):
                token = try Self.readSecret(at: path, what: "token file", fail: fail)
            case .environment(let name):
                guard let value = environment[name] else {
                    throw fail("environment variable \(name) is not set; export the token in it or use --token-file")
                }
                token = value.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard !token.isEmpty else { throw fail("the \(location) is empty; put the access token in it") }
            redaction.add(token)
            return LoadedCredentials(git: .userPassword(username: username, password: token), redaction: redaction)
        case .sshKey(let privateKeyFile, let publicKeyFile, let passphraseFile, let username):
            guard GitCredentials.sshSupported else {
                throw fail("this build of libgit2 has no SSH support; use an https:// URL with a token")
            }
            for (path, what) in [(privateKeyFile, "SSH private key"), (publicKeyFile, "SSH public key")] {
                guard let path else { continue }
                guard FileManager.default.isReadableFile(atPath: path), !Self.isDirectory(path) else {
                    throw fail("cannot read the \(what) \(path); check the path and its permissions")
                }
            }
            let passphrase = try passphraseFile.map { (path) throws(SourceError) in
                try Self.readSecret(at: path, what: "SSH passphrase file", fail: fail)
            }
            if let passphrase { redaction.add(passphrase) }
            return LoadedCredentials(
                git: .sshKey(
                    username: username, publicKeyFile: publicKeyFile, privateKeyFile: privateKeyFile,
                    passphrase: passphrase),
                redaction: redaction)
        }
    }

    /// What to check when the remote refuses these credentials for a fetch or, `forPush`, a push.
    func refusalHint(forPush: Bool = false) -> String {
        let access = forPush ? "can push to" : "can read"
        switch self {
        case .none: return "the repository needs credentials: set --token-file, --token-env or --ssh-key"
        case .token(let location, let username):
            return "check that the token in the \(location) (sent as user \(username)) is current and \(access) the repository"
        case .sshKey(let privateKeyFile, _, _, _):
            return "check that the key \(privateKeyFile) is authorised for the repository"
        }
    }

    private static func readSecret(at path: String, what: String, fail: (String) -> SourceError) throws(SourceError) -> String {
        guard !isDirectory(path), let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot read the \(what) \(path); check the path and its permissions")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    private static func passwordInURL(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let password = components.password else { return nil }
        return password.removingPercentEncoding ?? password
    }
}
