import Foundation
import HTTPClient
import Model

extension KubeClient {
    /// `GET /api/v1/namespaces/{ns}/pods/{name}/log`: the container's output handed to `onData` as it arrives
    /// (return false to stop). With `follow` the server keeps the answer open while the container runs and ends
    /// it when the container ends; `isCancelled` is asked about once a second, so a follower whose reader left
    /// ends even while the log is quiet. An error answer (404 for no such pod, 400 for a container still waiting)
    /// throws `.status` with the server's Status, and nothing of it reaches `onData`.
    public func streamPodLog(namespace: String, pod: String, container: String? = nil, follow: Bool,
                             timeout: TimeInterval = 24 * 3600, isCancelled: (@Sendable () -> Bool)? = nil,
                             onData: ([UInt8]) -> Bool) throws(KubeError) {
        var query: [String] = []
        if let container { query.append("container=" + escape(container)) }
        if follow { query.append("follow=true") }
        let path = "/api/v1/namespaces/\(escape(namespace))/pods/\(escape(pod))/log" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        var headers = self.headers()
        headers.removeAll { $0.name == "Accept" }
        headers.append(("Accept", "text/plain, */*"))
        let request = HTTPRequest(method: "GET", url: config.server + path, headers: headers, timeout: follow ? timeout : self.timeout)
        let step = "logs pod/\(pod)"
        var errorBody: [UInt8] = []
        let answer: (status: Int, headers: [String: String])
        do {
            answer = try withoutActuallyEscaping(onData) { onData in
                try http.stream(request, isCancelled: isCancelled) { status, chunk in
                    guard (200..<300).contains(status) else {
                        errorBody += chunk
                        return errorBody.count < 64 * 1024
                    }
                    return onData(Array(chunk))
                }
            }
        } catch let error as HTTPClientError {
            throw .transport(error, server: config.server, step: step)
        } catch {
            throw .malformed(step: step, message: "\(error)")
        }
        counts.withLock { $0.reads += 1 }
        guard (200..<300).contains(answer.status) || answer.status == 0 else {
            throw .status(KubeStatus(code: answer.status, body: errorBody), object: nil, step: step)
        }
    }
}
