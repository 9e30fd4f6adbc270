import Foundation
import Synchronization

/// `map` on up to `width` threads (the calling one included), results in the order of `items`. The default
/// width is the machine's cores, for work that computes; work that waits on the network passes its own
/// (as many requests as it wants in flight). Each item is taken by exactly one thread.
public func parallelMap<T: Sendable, R: Sendable>(_ items: [T], width: Int = ProcessInfo.processInfo.activeProcessorCount,
                                                  _ transform: @escaping @Sendable (T) -> R) -> [R] {
    let threads = min(max(1, width), items.count)
    guard threads > 1 else { return items.map(transform) }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    // Each index is written by the one thread that took it, and read only after every thread is done.
    nonisolated(unsafe) let slots = results
    let next = Atomic<Int>(0)
    let work: @Sendable () -> Void = {
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < items.count else { return }
            slots[index] = transform(items[index])
        }
    }
    let group = DispatchGroup()
    for _ in 1..<threads {
        group.enter()
        Thread {
            work()
            group.leave()
        }.start()
    }
    work()
    group.wait()
    // Move the results out, so the buffer holds no references when it is freed.
    return (0..<items.count).map { (results.baseAddress! + $0).move()! }
}
