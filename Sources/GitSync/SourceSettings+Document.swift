import Model

// The bridge from `tenantry.yaml`: the YAML layer parses the file and hands over its mapping as
// JSON (`YAMLNode.json`); everything here is about field names and types, not YAML syntax.
//
//   source:
//     url: https://github.com/acme/tenants.git
//     branch: main            # or tag: v1.4.0, or commit: <40 hex> (optionally with branch)
//     path: tenants
//     interval: 1m
//     cache: .tenantry/cache
//     auth: {tokenFile: /var/run/secrets/git/token, username: x-access-token}
//           # or tokenEnv: GIT_TOKEN, or sshKeyFile / sshPublicKeyFile / sshPassphraseFile
//   status:
//     path: status
//     branch: main
//     author: {name: Tenantry Bot, email: tenantry-bot@users.noreply.invalid}

extension SourceSettings {
    /// Settings from the top-level mapping of `tenantry.yaml`. Other top-level keys belong to
    /// other parts of Tenantry and are left alone; unknown keys under `source` and `status` are errors.
    public init(document: JSON, file: String) throws(SourceConfigError) {
        self.init()
        guard let root = document.objectValue else {
            throw SourceConfigError(file: file, field: "(top level)", message: "expected a mapping")
        }
        let reader = FieldReader(file: file)
        if let source = try reader.mapping(root["source"], at: "source") {
            try reader.only(
                ["url", "branch", "tag", "commit", "path", "interval", "cache", "auth"], in: source, at: "source")
            url = try reader.string(source["url"], at: "source.url")
            branch = try reader.string(source["branch"], at: "source.branch")
            tag = try reader.string(source["tag"], at: "source.tag")
            commit = try reader.string(source["commit"], at: "source.commit")
            path = try reader.string(source["path"], at: "source.path")
            interval = try reader.string(source["interval"], at: "source.interval")
            cacheDirectory = try reader.string(source["cache"], at: "source.cache")
            if let auth = try reader.mapping(source["auth"], at: "source.auth") {
                try reader.only(
                    ["username", "tokenFile", "tokenEnv", "sshKeyFile", "sshPublicKeyFile", "sshPassphraseFile"],
                    in: auth, at: "source.auth")
                username = try reader.string(auth["username"], at: "source.auth.username")
                tokenFile = try reader.string(auth["tokenFile"], at: "source.auth.tokenFile")
                tokenEnvironment = try reader.string(auth["tokenEnv"], at: "source.auth.tokenEnv")
                sshKeyFile = try reader.string(auth["sshKeyFile"], at: "source.auth.sshKeyFile")
                sshPublicKeyFile = try reader.string(auth["sshPublicKeyFile"], at: "source.auth.sshPublicKeyFile")
                sshPassphraseFile = try reader.string(auth["sshPassphraseFile"], at: "source.auth.sshPassphraseFile")
            }
        }
        if let status = try reader.mapping(root["status"], at: "status") {
            try reader.only(["path", "branch", "author"], in: status, at: "status")
            statusPath = try reader.string(status["path"], at: "status.path")
            statusBranch = try reader.string(status["branch"], at: "status.branch")
            if let author = try reader.mapping(status["author"], at: "status.author") {
                try reader.only(["name", "email"], in: author, at: "status.author")
                authorName = try reader.string(author["name"], at: "status.author.name")
                authorEmail = try reader.string(author["email"], at: "status.author.email")
            }
        }
    }
}

/// Typed reads from a JSON mapping with messages that name the file and field.
private struct FieldReader {
    let file: String

    func mapping(_ value: JSON?, at field: String) throws(SourceConfigError) -> JSONObject? {
        switch value {
        case nil, .null?: return nil
        case .object(let object)?: return object
        default: throw SourceConfigError(file: file, field: field, message: "expected a mapping")
        }
    }

    /// Strings; numbers are accepted as written so that `branch: 2024` or `interval: 60` are not surprises.
    func string(_ value: JSON?, at field: String) throws(SourceConfigError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .int(let number)?: return field.hasSuffix("interval") ? "\(number)s" : String(number)
        case .number(let text)?: return text
        default: throw SourceConfigError(file: file, field: field, message: "expected a string")
        }
    }

    func only(_ known: [String], in object: JSONObject, at field: String) throws(SourceConfigError) {
        for key in object.keys where !known.contains(key) {
            throw SourceConfigError(
                file: file, field: "\(field).\(key)",
                message: "unknown field; expected one of \(known.joined(separator: ", "))")
        }
    }
}
