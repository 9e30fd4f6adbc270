/// A command line that cannot be run as typed: unknown flag, missing argument, bad value.
/// The command layer prints it with the command's usage and exits 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
