import Foundation
import XCTest

/// The one way tests wait: poll `condition` until it holds. The deadline is only a safety net (generous, for
/// a shared, noisy machine), never a measurement; no test sleeps in place of an event.
public func eventually(_ what: String, within seconds: TimeInterval = 90, file: StaticString = #filePath, line: UInt = #line,
                       _ condition: () throws -> Bool) rethrows {
    let deadline = Date().addingTimeInterval(seconds)
    while try !condition() {
        if Date() > deadline { return XCTFail("never happened: \(what)", file: file, line: line) }
        Thread.sleep(forTimeInterval: 0.01)
    }
}
