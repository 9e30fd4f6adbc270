import Foundation
import Model
import XCTest
@testable import Sessions

final class RetentionTests: XCTestCase {
    func testOnlySessionsThatEndedLongerAgoThanTheRetentionAreChosen() {
        let policy = Fixture.policy()  // payments: retention.sessions 180d, artifacts 30d (the platform default)
        XCTAssertEqual(policy.sessionRetention, 180 * 86_400)
        XCTAssertEqual(policy.artifactRetention, 30 * 86_400)
        let day: TimeInterval = 86_400
        func session(_ name: String, _ phase: Session.Phase, endedDaysAgo: Double?) -> SessionObject {
            var session = Fixture.session(name: name)
            session.status.phase = phase
            session.status.completionTime = endedDaysAgo.map { Fixture.created.addingTimeInterval(-$0 * day) }
            return session
        }
        let sessions = [
            session("old-completed", .completed, endedDaysAgo: 181),
            session("old-failed", .failed, endedDaysAgo: 200),
            session("old-stopped", .stopped, endedDaysAgo: 180.5),
            session("recent", .completed, endedDaysAgo: 179),
            session("exactly", .completed, endedDaysAgo: 180),
            session("still-running", .running, endedDaysAgo: nil),
            session("still-pending", .pending, endedDaysAgo: nil),
        ]
        let now = Fixture.created
        XCTAssertEqual(SessionRetention.expiredSessions(sessions, policy: policy, now: now).map(\.name), ["old-completed", "old-failed", "old-stopped"])
        var ancient = Fixture.session(name: "ancient-running")
        ancient.status.phase = .running
        XCTAssertEqual(SessionRetention.expiredSessions([ancient], policy: policy, now: now.addingTimeInterval(1000 * day)), [])
        XCTAssertEqual(SessionRetention.artifactCutoff(policy: policy, now: now), now.addingTimeInterval(-30 * day))
    }
}
