import Foundation
import HTTPClient
import Model
import Support

/// Where and how to reach one API server: what a kubeconfig context or an in-cluster service
/// account resolves to. The token is kept out of `description`, so printing a config never leaks it.
public struct ClusterConfig: Sendable, Hashable, CustomStringConvertible {
    /// `https://host:port` without a trailing slash.
    public var server: String
    public var token: String?
    public var tls: TLSOptions
    /// The context's default namespace (`default` when unset).
    public var namespace: String
    /// The context name, `in-cluster`, or the file it came from, for messages.
    public var source: String

    public init(server: String, token: String? = nil, tls: TLSOptions = TLSOptions(), namespace: String = "default", source: String) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.token = token
        self.tls = tls
        self.namespace = namespace
        self.source = source
    }

    public var description: String {
        "\(server) (\(source); " + (token == nil ? "no token" : "token ***") + (tls.insecureSkipVerify ? ", TLS not verified" : "") + ")"
    }
}

/// A kubeconfig that cannot be used, with the file and field and what to do.
public struct KubeconfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let field: String
    public let message: String

    public init(file: String, field: String = "", message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        "kubeconfig \(file)" + (field.isEmpty ? "" : " (\(field))") + ": \(message)"
    }
}

/// Reads kubeconfig files as kubectl does: several files merged (the first to define a name or the
/// current context wins), paths resolved against the file that names them, one context selected.
public struct Kubeconfig: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var fields: JSONObject
        /// The directory of the file the entry came from, for relative paths.
        var directory: String
        var file: String
    }

    var clusters: [String: Entry] = [:]
    var users: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    public private(set) var currentContext: String?
    public private(set) var files: [String] = []

    public var contextNames: [String] { contexts.keys.sorted() }

    public init() {}

    /// Merges `paths` in order; missing files are skipped, as kubectl does for KUBECONFIG entries.
    public static func load(paths: [String]) throws(KubeconfigError) -> Kubeconfig {
        var config = Kubeconfig()
        for path in paths where !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            try config.merge(text: data, file: path)
        }
        return config
    }

    /// Parses one file's text (exposed for tests).
    public static func parse(_ text: String, file: String) throws(KubeconfigError) -> Kubeconfig {
        var config = Kubeconfig()
        try config.merge(text: Data(text.utf8), file: file)
        return config
    }

    mutating func merge(text: Data, file: String) throws(KubeconfigError) {
        let document: JSON
        do {
            document = try YAML.parseDocument(Array(text))?.json ?? .object([:])
        } catch {
            throw KubeconfigError(file: "\(file):\(error.mark)", message: "not valid YAML: \(error.message)")
        }
        guard case .object(let root) = document else {
            if document == .null { files.append(file); return }
            throw KubeconfigError(file: file, message: "expected a mapping with clusters, users and contexts")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        func named(_ key: String, inner: String, into table: inout [String: Entry]) throws(KubeconfigError) {
            guard let list = root[key], list != .null else { return }
            guard let items = list.arrayValue else {
                throw KubeconfigError(file: file, field: key, message: "expected a list of {name, \(inner)}")
            }
            for (index, item) in items.enumerated() {
                guard let name = item["name"]?.stringValue, !name.isEmpty else {
                    throw KubeconfigError(file: file, field: "\(key)[\(index)].name", message: "every entry needs a name")
                }
                let fields = item[inner]?.objectValue ?? [:]
                if table[name] == nil { table[name] = Entry(fields: fields, directory: directory, file: file) }
            }
        }
        try named("clusters", inner: "cluster", into: &clusters)
        try named("users", inner: "user", into: &users)
        try named("contexts", inner: "context", into: &contexts)
        if currentContext == nil, let current = root["current-context"]?.stringValue, !current.isEmpty {
            currentContext = current
        }
        files.append(file)
    }

    /// The connection for `context` (or the current context).
    public func resolve(context requested: String? = nil) throws(KubeconfigError) -> ClusterConfig {
        let where_ = files.joined(separator: ":")
        guard let name = requested ?? currentContext else {
            throw KubeconfigError(file: where_, field: "current-context",
                                  message: "no current context; pass --context NAME (one of: \(contextNames.joined(separator: ", ")))")
        }
        guard let context = contexts[name] else {
            var message = "context \"\(name)\" not found"
            if let guess = Suggest.closest(to: name, among: contextNames) { message += " (did you mean \"\(guess)\"?)" }
            message += "; contexts: \(contextNames.isEmpty ? "none" : contextNames.joined(separator: ", "))"
            throw KubeconfigError(file: where_, field: "contexts", message: message)
        }
        guard let clusterName = context.fields["cluster"]?.stringValue, let cluster = clusters[clusterName] else {
            throw KubeconfigError(file: context.file, field: "contexts[\(name)].cluster",
                                  message: "the context names cluster \"\(context.fields["cluster"]?.stringValue ?? "")\", which no file defines")
        }
        guard let server = cluster.fields["server"]?.stringValue, !server.isEmpty else {
            throw KubeconfigError(file: cluster.file, field: "clusters[\(clusterName)].server", message: "the cluster has no server URL")
        }
        var tls = TLSOptions()
        tls.insecureSkipVerify = cluster.fields["insecure-skip-tls-verify"] == .bool(true)
        tls.caFile = try path(cluster, "certificate-authority")
        tls.caData = try data(cluster, "certificate-authority-data", field: "clusters[\(clusterName)]")
        var token: String?
        if let userName = context.fields["user"]?.stringValue, !userName.isEmpty {
            guard let user = users[userName] else {
                throw KubeconfigError(file: context.file, field: "contexts[\(name)].user",
                                      message: "the context names user \"\(userName)\", which no file defines")
            }
            let field = "users[\(userName)]"
            tls.clientCertificateFile = try path(user, "client-certificate")
            tls.clientCertificateData = try data(user, "client-certificate-data", field: field)
            tls.clientKeyFile = try path(user, "client-key")
            tls.clientKeyData = try data(user, "client-key-data", field: field)
            if let value = user.fields["token"]?.stringValue, !value.isEmpty {
                token = value
            } else if let file = try path(user, "tokenFile") {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw KubeconfigError(file: user.file, field: "\(field).tokenFile", message: "cannot read \(file); check the path and its permissions")
                }
                token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if user.fields["exec"] != nil || user.fields["auth-provider"] != nil, token == nil, tls.clientCertificateFile == nil, tls.clientCertificateData == nil {
                throw KubeconfigError(file: user.file, field: "\(field).exec",
                                      message: "exec and auth-provider credential plugins are not supported; use a token, tokenFile or client certificate")
            }
        }
        let namespace = context.fields["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        return ClusterConfig(server: server, token: token, tls: tls, namespace: namespace, source: "context \(name)")
    }

    private func path(_ entry: Entry, _ key: String) throws(KubeconfigError) -> String? {
        guard let value = entry.fields[key]?.stringValue, !value.isEmpty else { return nil }
        if value.hasPrefix("/") { return value }
        if value.hasPrefix("~/") { return FileManager.default.homeDirectoryForCurrentUser.path + value.dropFirst(1) }
        return entry.directory + "/" + value
    }

    private func data(_ entry: Entry, _ key: String, field: String) throws(KubeconfigError) -> [UInt8]? {
        guard let value = entry.fields[key]?.stringValue, !value.isEmpty else { return nil }
        guard let decoded = Data(base64Encoded: value.filter { !$0.isWhitespace }) else {
            throw KubeconfigError(file: entry.file, field: "\(field).\(key)", message: "not valid base64")
        }
        return Array(decoded)
    }
}

/// How to find the cluster when nothing is said: `--kubeconfig`, then `KUBECONFIG`, then
/// `~/.kube/config`, then the in-cluster service account; nil when there is none of these.
public struct ClusterLocator: Sendable {
    public var kubeconfigFlag: String?
    public var context: String?
    public var environment: [String: String]
    public var home: String
    /// Where a pod's service account is mounted; injectable for tests.
    public var serviceAccountDirectory: String

    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(kubeconfigFlag: String? = nil, context: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = FileManager.default.homeDirectoryForCurrentUser.path,
                serviceAccountDirectory: String = ClusterLocator.defaultServiceAccountDirectory) {
        self.kubeconfigFlag = kubeconfigFlag
        self.context = context
        self.environment = environment
        self.home = home
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// The configured cluster, or nil when no kubeconfig and no service account exist.
    public func locate() throws(KubeconfigError) -> ClusterConfig? {
        if let flag = kubeconfigFlag {
            guard FileManager.default.fileExists(atPath: flag) else {
                throw KubeconfigError(file: flag, field: "--kubeconfig", message: "no such file; check the path")
            }
            return try Kubeconfig.load(paths: [flag]).resolve(context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init)
            let config = try Kubeconfig.load(paths: paths)
            if !config.files.isEmpty { return try config.resolve(context: context) }
        }
        let home = self.home + "/.kube/config"
        if FileManager.default.fileExists(atPath: home) {
            return try Kubeconfig.load(paths: [home]).resolve(context: context)
        }
        return try inCluster()
    }

    /// The pod's service account, when KUBERNETES_SERVICE_HOST and PORT are set.
    public func inCluster() throws(KubeconfigError) -> ClusterConfig? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else { return nil }
        let tokenPath = serviceAccountDirectory + "/token"
        guard let token = try? String(contentsOfFile: tokenPath, encoding: .utf8) else {
            throw KubeconfigError(file: tokenPath, message: "KUBERNETES_SERVICE_HOST is set but the service account token cannot be read; mount the service account or pass --kubeconfig")
        }
        let namespace = (try? String(contentsOfFile: serviceAccountDirectory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let ca = serviceAccountDirectory + "/ca.crt"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return ClusterConfig(server: "https://\(hostPart):\(port)", token: token.trimmingCharacters(in: .whitespacesAndNewlines),
                             tls: TLSOptions(caFile: FileManager.default.fileExists(atPath: ca) ? ca : nil),
                             namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default", source: "in-cluster")
    }
}
