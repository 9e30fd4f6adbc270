import Foundation
import Model
import XCTest
@testable import Sessions

final class RunnerSummaryTests: XCTestCase {
    func testAFullSummaryParses() throws {
        let summary = try RunnerSummary(terminationMessage: #"{"result":"success","summary":"Opened PR #7","usage":{"inputTokens":10,"outputTokens":20,"cost":"0.015"},"artifacts":["log","workspace.patch"]}"#)
        XCTAssertEqual(summary, RunnerSummary(result: .success, summary: "Opened PR #7", usage: .init(inputTokens: 10, outputTokens: 20, cost: Amount("0.015")),
                                              artifacts: ["log", "workspace.patch"]))
        XCTAssertEqual(try RunnerSummary(terminationMessage: summary.terminationMessage), summary)
        XCTAssertEqual(try RunnerSummary(terminationMessage: #"{"result":"budget-exceeded"}"#).result, .budgetExceeded)
    }

    func testEveryMistakeNamesItsField() {
        let cases: [(String, String)] = [
            ("", "the termination message is empty"),
            ("   \n", "the termination message is empty"),
            ("done", "invalid JSON"),
            ("[1]", "expected a JSON object"),
            (#"{"summary":"x"}"#, "result: Required value"),
            (#"{"result":"ok"}"#, #"result: Unsupported value: "ok""#),
            (#"{"result":"success","sumary":"x"}"#, "sumary: unknown field"),
            (#"{"result":"success","summary":3}"#, "summary: expected a string"),
            (#"{"result":"success","usage":{"inputTokens":-1}}"#, "usage.inputTokens: expected a whole number"),
            (#"{"result":"success","usage":{"outputTokens":1.5}}"#, "usage.outputTokens: expected a whole number"),
            (#"{"result":"success","usage":{"cost":1.5}}"#, "usage.cost: expected a decimal string"),
            (#"{"result":"success","usage":{"cost":"-1"}}"#, "usage.cost: expected a decimal string"),
            (#"{"result":"success","usage":{"tokens":1}}"#, "usage.tokens: unknown field"),
            (#"{"result":"success","usage":[]}"#, "usage: expected an object"),
            (#"{"result":"success","artifacts":"log"}"#, "artifacts: expected an array"),
            (#"{"result":"success","artifacts":["log",""]}"#, "artifacts[1]: expected an artifact name"),
            (#"{"result":"success","summary":"\#(String(repeating: "a", count: 1025))"}"#, "summary: Too long"),
            (String(repeating: " ", count: 4097) + "{}", "more than the 4096 Kubernetes keeps"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try RunnerSummary(terminationMessage: text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text.prefix(60)): \(error)")
                XCTAssertTrue("\(error)".hasPrefix("runner summary: "), "\(error)")
            }
        }
    }

    func testTheTerminationMessageAlwaysFitsAndStillParses() throws {
        let summary = RunnerSummary(result: .failure, summary: String(repeating: "é", count: 5000),
                                    artifacts: (0..<300).map { "artifact-\($0)-with-a-longish-name.txt" })
        let text = summary.terminationMessage
        XCTAssertLessThanOrEqual(text.utf8.count, RunnerSummary.maxBytes)
        let parsed = try RunnerSummary(terminationMessage: text)
        XCTAssertEqual(parsed.result, .failure)
        XCTAssertLessThanOrEqual(parsed.summary.count, RunnerSummary.maxSummaryCharacters)
        XCTAssertTrue(parsed.summary.hasSuffix("…"))
    }
}
