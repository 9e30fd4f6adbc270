import Foundation

/// An HTTP request as the clients of Tenantry (Kubernetes, GitHub) send it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// In order; names as given. Secrets (Authorization) are sent but never printed by this module.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// The whole exchange, connection included.
    public var timeout: TimeInterval
    /// Sign the request with AWS Signature Version 4 (S3 and S3-compatible stores), by libcurl itself.
    public var awsSigV4: AWSSigV4?
    /// `HOST:PORT:ADDRESS` entries (libcurl's `CURLOPT_RESOLVE`): connect to ADDRESS for HOST:PORT without asking
    /// DNS again, so an address checked before the request is the one the request reaches (no DNS rebinding).
    public var resolve: [String]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                timeout: TimeInterval = 30, awsSigV4: AWSSigV4? = nil, resolve: [String] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.awsSigV4 = awsSigV4
        self.resolve = resolve
    }
}

/// What libcurl's `CURLOPT_AWS_SIGV4` needs: `aws:amz:<region>:<service>` and the key pair (never printed).
public struct AWSSigV4: Sendable, Hashable {
    public var region: String
    public var service: String
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(region: String, service: String = "s3", accessKeyID: String, secretAccessKey: String) {
        self.region = region
        self.service = service
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    var provider: String { "aws:amz:\(region):\(service)" }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Names lower-cased; a repeated header's values joined with ", ".
    public let headers: [String: String]
    public let body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// TLS settings, as a kubeconfig or an in-cluster service account gives them.
public struct TLSOptions: Sendable, Hashable {
    /// PEM bundle of the CAs to trust, from a file or inline; the system's CAs when both are nil.
    public var caFile: String?
    public var caData: [UInt8]?
    /// Client certificate and key (PEM), from files or inline.
    public var clientCertificateFile: String?
    public var clientCertificateData: [UInt8]?
    public var clientKeyFile: String?
    public var clientKeyData: [UInt8]?
    /// Skips server verification, as kubeconfig's `insecure-skip-tls-verify`.
    public var insecureSkipVerify: Bool

    public init(caFile: String? = nil, caData: [UInt8]? = nil, clientCertificateFile: String? = nil,
                clientCertificateData: [UInt8]? = nil, clientKeyFile: String? = nil, clientKeyData: [UInt8]? = nil,
                insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.caData = caData
        self.clientCertificateFile = clientCertificateFile
        self.clientCertificateData = clientCertificateData
        self.clientKeyFile = clientKeyFile
        self.clientKeyData = clientKeyData
        self.insecureSkipVerify = insecureSkipVerify
    }
}
