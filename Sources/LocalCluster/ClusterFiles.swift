import Foundation
import HTTPServer
import Support

/// The files of one local cluster directory.
struct ClusterFiles: Sendable, Hashable {
    let directory: String

    var database: String { directory + "/cluster.db" }
    var token: String { directory + "/token" }
    var kubeconfig: String { directory + "/kubeconfig" }
    var pidFile: String { directory + "/server.pid" }
    var lockFile: String { directory + "/lock" }
    var certificate: String { directory + "/tls.crt" }
    var privateKey: String { directory + "/tls.key" }
    /// The ES256 key that signs ServiceAccount and user tokens (PEM, 0600).
    var signingKey: String { directory + "/sa.key" }

    /// The server's self-signed certificate for 127.0.0.1 and localhost, made once and kept, so a
    /// kubeconfig written earlier still trusts the server after a restart.
    func loadOrCreateIdentity() throws -> TLSIdentity {
        if let certificatePEM = try? String(contentsOfFile: certificate, encoding: .utf8),
           let keyPEM = try? String(contentsOfFile: privateKey, encoding: .utf8) {
            return TLSIdentity(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
        }
        let identity = try TLSIdentity.selfSigned(commonName: "tenantry-local-cluster", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], days: 3650)
        try writePrivate(privateKey, identity.privateKeyPEM)
        try writePrivate(certificate, identity.certificatePEM)
        return identity
    }

    /// The bearer token clients must send, made once (32 random bytes, hex) and kept across restarts.
    func loadOrCreateToken() throws -> String {
        if let existing = try? String(contentsOfFile: token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try writePrivate(token, value + "\n")
        return value
    }

    /// The token signing key, made on first use. Written under a temporary name and linked into
    /// place, so a server starting while `tenantry cluster token` runs ends up with the same key.
    func loadOrCreateSigningKey() throws -> JWTSigningKey {
        if let pem = try? String(contentsOfFile: signingKey, encoding: .utf8) { return try JWTSigningKey(pem: pem) }
        let key = try JWTSigningKey.generate(.es256)
        let temporary = signingKey + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        try writePrivate(temporary, key.privateKeyPEM)
        defer { unlink(temporary) }
        if link(temporary, signingKey) != 0, errno != EEXIST { throw LocalClusterError.cannotWrite(path: signingKey) }
        return try JWTSigningKey(pem: try String(contentsOfFile: signingKey, encoding: .utf8))
    }

    /// The database and its WAL files are private to the owner (SQLite gives -wal and -shm the
    /// database file's mode, so creating it 0600 first covers them; older directories are fixed up).
    func securePermissions() throws {
        if !FileManager.default.fileExists(atPath: database) {
            let descriptor = open(database, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw LocalClusterError.cannotWrite(path: database) }
            close(descriptor)
        }
        for path in [database, database + "-wal", database + "-shm", token, signingKey, kubeconfig, certificate, privateKey]
        where FileManager.default.fileExists(atPath: path) {
            guard chmod(path, 0o600) == 0 else { throw LocalClusterError.cannotWrite(path: path) }
        }
    }

    /// kubectl sends bearer tokens only over TLS, so the kubeconfig names the server's certificate as its CA.
    func writeKubeconfig(url: String, token: String, certificatePEM: String?) throws {
        let trust = certificatePEM.map { "\n    certificate-authority-data: " + Data($0.utf8).base64EncodedString() } ?? ""
        try writePrivate(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: tenantry-local
              cluster:
                server: \(url)\(trust)
            users:
            - name: tenantry-local
              user:
                token: \(token)
            contexts:
            - name: tenantry-local
              context:
                cluster: tenantry-local
                user: tenantry-local
                namespace: default
            current-context: tenantry-local

            """)
    }

    func writePID(port: UInt16) throws {
        try writePrivate(pidFile, "\(ProcessInfo.processInfo.processIdentifier) \(port)\n")
    }

    /// The pid of the server that last started here, if its file is readable.
    func recordedPID() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// Everything the cluster stored: objects, history, token and kubeconfig.
    func removeAll() throws {
        for path in [database, database + "-wal", database + "-shm", token, kubeconfig, pidFile, certificate, privateKey, signingKey] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    private func writePrivate(_ path: String, _ text: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LocalClusterError.cannotWrite(path: path)
        }
    }
}

/// One server per directory: an exclusive flock on DIR/lock, released on stop or when the process dies
/// (so a kill -9 never leaves a stale lock).
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    init(_ files: ClusterFiles) throws {
        let descriptor = open(files.lockFile, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LocalClusterError.cannotWrite(path: files.lockFile) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LocalClusterError.alreadyRunning(directory: files.directory, pid: files.recordedPID())
        }
        self.descriptor = descriptor
    }

    /// Whether a server holds the directory right now.
    static func isHeld(_ files: ClusterFiles) -> Bool {
        let descriptor = open(files.lockFile, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    func release() { flock(descriptor, LOCK_UN) }

    deinit { close(descriptor) }
}

/// Why the local cluster could not start, stop or reset.
public enum LocalClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    case alreadyRunning(directory: String, pid: Int32?)
    case notRunning(directory: String)
    case cannotWrite(path: String)
    case stopTimedOut(directory: String, pid: Int32)

    public var description: String {
        switch self {
        case .alreadyRunning(let directory, let pid):
            let who = pid.map { " (pid \($0))" } ?? ""
            return "a local cluster is already running in \(directory)\(who); stop it with `tenantry cluster stop --dir \(directory)` or choose another --dir"
        case .notRunning(let directory):
            return "no local cluster is running in \(directory); start one with `tenantry cluster start --dir \(directory)`"
        case .cannotWrite(let path):
            return "cannot write \(path): check that the directory exists and is writable"
        case .stopTimedOut(let directory, let pid):
            return "the local cluster in \(directory) (pid \(pid)) did not stop within 30 seconds of SIGTERM; check it with `ps -p \(pid)` and end it with `kill \(pid)`"
        }
    }
}
