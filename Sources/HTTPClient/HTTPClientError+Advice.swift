extension HTTPClientError {
    /// What failed and what to check, in kubectl's words, for `server`; `source` names where the server and its
    /// certificates are configured (`kubeconfig`), when there is such a place.
    public func advice(server: String, configuredIn source: String? = nil) -> String {
        let setting = source.map { "the \($0)'s " } ?? "the "
        switch kind {
        case .connect: return "The connection to the server \(server) was refused - did you specify the right host or port?"
        case .timeout: return "The server \(server) did not answer in time; check that it is up and reachable, then retry."
        case .tls: return "TLS with \(server) failed; check \(setting)certificate-authority and client certificate."
        case .resolve: return "The server name in \(server) does not resolve; check \(setting)server URL."
        case .other: return "The request to \(server) failed."
        }
    }
}
