import Foundation

extension ResponseStream {
    /// Reads the stream to its end or until `limit` bytes (then cancels it): for an in-process caller that needs
    /// the whole of a finite body, such as the web UI showing an artifact or a finished log.
    public func collect(limit: Int) -> Data {
        var data = Data()
        while data.count < limit, let chunk = next() { data.append(chunk) }
        cancel()
        return data.count > limit ? data.prefix(limit) : data
    }
}
