import Foundation

/// The wall clock and a sleep, injectable: production uses `.system`; a test passes a clock it moves by hand
/// and a sleep that only records, so nothing really waits.
public struct WallClock: Sendable {
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (TimeInterval) -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.now = now
        self.sleep = sleep
    }

    public static let system = WallClock(now: { Date() })
}
