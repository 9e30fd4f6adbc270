import Foundation
import Support
import Synchronization
import XCTest

/// One of each basic: timestamps, backoff, parallel map, the injectable clock, SQLite durability.
final class BasicsTests: XCTestCase {
    func testTimestampsAreUTCWithWholeSeconds() throws {
        let date = Date(timeIntervalSince1970: 1_780_000_000.75)
        XCTAssertEqual(Timestamp.rfc3339(date), "2026-05-28T20:26:40Z")
        XCTAssertEqual(Timestamp.parse("2026-05-28T20:26:40Z"), Date(timeIntervalSince1970: 1_780_000_000))
        XCTAssertNil(Timestamp.parse("yesterday"))
        // An HTTP Date header (IMF-fixdate), as an API server sends it.
        XCTAssertEqual(Timestamp.httpDate("Thu, 28 May 2026 20:26:40 GMT"), Date(timeIntervalSince1970: 1_780_000_000))
        XCTAssertEqual(Timestamp.httpDate("Tue, 01 Dec 2026 09:05:07 GMT").map(Timestamp.rfc3339), "2026-12-01T09:05:07Z")
        XCTAssertNil(Timestamp.httpDate("Thu, 28 May 2026 20:26:40 CET"))
        XCTAssertNil(Timestamp.httpDate("Thu, 28 Mai 2026 20:26:40 GMT"))
    }

    func testTimestampsParseRFC3339FractionsAndOffsetsAndRefuseImpossibleDates() throws {
        let base = 1_780_000_000.0
        XCTAssertEqual(Timestamp.parse("2026-05-28T20:26:40.5Z"), Date(timeIntervalSince1970: base + 0.5))
        XCTAssertEqual(Timestamp.parse("2026-05-28T20:26:40.123456Z")!.timeIntervalSince1970, base + 0.123456, accuracy: 1e-6)
        XCTAssertEqual(Timestamp.parse("2026-05-28T22:26:40+02:00"), Date(timeIntervalSince1970: base))
        XCTAssertEqual(Timestamp.parse("2026-05-28T18:56:40-01:30"), Date(timeIntervalSince1970: base))
        XCTAssertEqual(Timestamp.parse("1970-01-01T00:00:00Z"), Date(timeIntervalSince1970: 0))
        XCTAssertEqual(Timestamp.parse("2024-02-29T00:00:00Z"), Date(timeIntervalSince1970: 1_709_164_800))
        for bad in ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-05-28T24:00:00Z", "2026-05-28T20:26:40",
                    "2026-05-28T20:26:40.Z", "2026-05-28 20:26:40Z", "2026-05-28T20:26:40Zjunk", "2026-5-28T20:26:40Z", "", "2026-05-28T20:26:40+0200"] {
            XCTAssertNil(Timestamp.parse(bad), bad)
        }
        // A MicroTime read back prints as it was written (the shared ledger rewrites its entries on every write).
        for text in ["2026-12-01T15:00:00.123456Z", "2026-12-01T15:00:00.000001Z", "2026-12-01T15:00:00.999999Z", "2026-12-01T15:00:00.000000Z"] {
            XCTAssertEqual(Timestamp.microTime(try XCTUnwrap(Timestamp.parse(text))), text)
        }
        XCTAssertEqual(Timestamp.microTime(Date(timeIntervalSince1970: base + 0.9999996)), "2026-05-28T20:26:41.000000Z")
        XCTAssertEqual(Timestamp.rfc3339(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.rfc3339(Date(timeIntervalSince1970: 253_402_300_800)), "10000-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.month(Date(timeIntervalSince1970: 1_709_164_800)), "2024-02")
    }

    func testBackoffDoublesUpToItsCapWithinTheJitter() {
        let backoff = Backoff(initial: 0.2, maximum: 5, jitter: 0.2)
        for (retry, base) in [(1, 0.2), (2, 0.4), (3, 0.8), (6, 5.0), (40, 5.0)] {
            for _ in 0..<50 {
                let delay = backoff.delay(retry: retry)
                XCTAssertGreaterThanOrEqual(delay, base * 0.8 - 1e-9, "retry \(retry)")
                XCTAssertLessThanOrEqual(delay, base * 1.2 + 1e-9, "retry \(retry)")
            }
        }
        XCTAssertEqual(Backoff(initial: 1, jitter: 0).delay(retry: 4), 8)
        XCTAssertEqual(Backoff(initial: 1, maximum: 30, jitter: 0).delay(retry: 10_000), 30, "no overflow however many retries")
    }

    func testParallelMapKeepsOrderAndRunsAtTheWidthAsked() {
        let items = Array(0..<1000)
        XCTAssertEqual(parallelMap(items) { $0 * 2 }, items.map { $0 * 2 })
        XCTAssertEqual(parallelMap([Int]()) { $0 }, [])
        // Four items that each wait for all four to have started: only four threads at once get through.
        let started = Mutex(0)
        let all = DispatchSemaphore(value: 0)
        let results = parallelMap(Array(0..<4), width: 4) { index -> Int in
            if started.withLock({ $0 += 1; return $0 }) == 4 { for _ in 0..<4 { all.signal() } }
            return all.wait(timeout: .now() + 60) == .success ? index : -1
        }
        XCTAssertEqual(results, [0, 1, 2, 3], "four items ran at the same time on four threads")
    }

    func testTheWallClockIsInjectable() {
        let slept = Mutex<[TimeInterval]>([])
        let fixed = Date(timeIntervalSince1970: 1_000)
        let clock = WallClock(now: { fixed }, sleep: { seconds in slept.withLock { $0.append(seconds) } })
        clock.sleep(30)
        XCTAssertEqual(clock.now(), fixed)
        XCTAssertEqual(slept.withLock { $0 }, [30])
    }

    func testDurableDatabasesUseTheWriteAheadLogAndFullSync() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SQLiteDatabase(path: path)
        try database.makeDurable()
        XCTAssertEqual(try database.query("PRAGMA journal_mode").first?.first?.text, "wal")
        XCTAssertEqual(try database.query("PRAGMA synchronous").first?.first?.integer, 2, "FULL")
    }
}
