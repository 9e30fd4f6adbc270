import Model
import Support
import XCTest

final class YAMLTests: XCTestCase {
    private func parse(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> YAMLNode {
        try XCTUnwrap(YAML.parseDocument(Array(text.utf8), limits: limits))
    }

    private func error(_ text: String, limits: YAMLLimits = YAMLLimits()) -> YAMLError? {
        do {
            _ = try YAML.parseDocuments(Array(text.utf8), limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func testNodesKeepTheirLineAndColumn() throws {
        let root = try parse("name: alpha\npolicy:\n  budget:\n    monthly: lots\n")
        guard case .mapping(let pairs) = root.content else { return XCTFail("expected a mapping") }
        XCTAssertEqual(pairs.map(\.key), ["name", "policy"])
        XCTAssertEqual(pairs[1].keyMark, SourceMark(line: 2, column: 1))
        guard case .mapping(let policy) = pairs[1].value.content, case .mapping(let budget) = policy[0].value.content else {
            return XCTFail("expected nested mappings")
        }
        XCTAssertEqual(budget[0].value.mark, SourceMark(line: 4, column: 14))
        XCTAssertEqual(budget[0].value.resolved, .string("lots"))
    }

    func testCoreSchemaKeepsYAML11BooleansAsStrings() throws {
        let root = try parse("""
        a: no
        b: on
        c: NO
        d: yes
        e: true
        f: False
        g: ~
        h:
        i: 0o17
        j: 0x1F
        k: -12
        l: 1.5
        m: "123"
        n: 'true'
        o: .inf
        p: 1e3
        q: 08
        """)
        guard case .mapping(let pairs) = root.content else { return XCTFail("expected a mapping") }
        let values = Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value.resolved) })
        XCTAssertEqual(values["a"], .string("no"))
        XCTAssertEqual(values["b"], .string("on"))
        XCTAssertEqual(values["c"], .string("NO"))
        XCTAssertEqual(values["d"], .string("yes"))
        XCTAssertEqual(values["e"], .bool(true))
        XCTAssertEqual(values["f"], .bool(false))
        XCTAssertEqual(values["g"], .null)
        XCTAssertEqual(values["h"], .null)
        XCTAssertEqual(values["i"], .int(15))
        XCTAssertEqual(values["j"], .int(31))
        XCTAssertEqual(values["k"], .int(-12))
        XCTAssertEqual(values["l"], .float("1.5"))
        XCTAssertEqual(values["m"], .string("123"))
        XCTAssertEqual(values["n"], .string("true"))
        XCTAssertEqual(values["o"], .float(".inf"))
        XCTAssertEqual(values["p"], .float("1e3"))
        XCTAssertEqual(values["q"], .int(8), "YAML 1.2 has no implicit octal: 08 is eight")
    }

    func testDuplicateKeysAreRefusedWithBothLines() {
        let failure = error("a: 1\nb: 2\na: 3\n")
        XCTAssertEqual(failure?.reason, .duplicateKey)
        XCTAssertEqual(failure?.mark, SourceMark(line: 3, column: 1))
        XCTAssertEqual(failure?.message, "duplicate key \"a\" (first defined at line 1); keep one of them")
    }

    func testBillionLaughsIsStoppedAtTheExpansionLimit() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let failure = error(text)
        XCTAssertEqual(failure?.reason, .aliasExpansion)
    }

    func testAliasesWithinTheLimitAreExpanded() throws {
        let root = try parse("base: &b {cpu: '2'}\ncopy: *b\n")
        XCTAssertEqual(root.json, ["base": ["cpu": "2"], "copy": ["cpu": "2"]])
    }

    func testNestingDeeperThanTheLimitIsRefused() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        XCTAssertEqual(error(deep)?.reason, .tooDeep)
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        XCTAssertNil(error(fine))
    }

    func testForeignTagsAreRefusedAndCoreTagsHonoured() throws {
        XCTAssertEqual(error("x: !!python/object/apply:os.system [id]\n")?.reason, .tag)
        XCTAssertEqual(error("x: !custom 1\n")?.reason, .tag)
        XCTAssertEqual(error("x: !!int abc\n")?.reason, .tag)
        XCTAssertEqual(try parse("x: !!str 123\n").json, ["x": "123"])
        XCTAssertEqual(try parse("x: !!int 7\n").json, ["x": 7])
    }

    func testInvalidUTF8IsReportedWithItsPosition() {
        var bytes = Array("name: ok\nbad: ".utf8)
        bytes += [0xC3, 0x28, 0x0A]
        do {
            _ = try YAML.parseDocuments(bytes)
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.reason, .notUTF8)
            XCTAssertEqual(error.mark, SourceMark(line: 2, column: 6))
            XCTAssertTrue(error.message.contains("0xC3"), error.message)
        }
    }

    func testSyntaxErrorsCarryLibyamlsPosition() {
        let failure = error("a: [1, 2\nb: 3\n")
        XCTAssertEqual(failure?.reason, .syntax)
        XCTAssertNotNil(failure?.mark)
        XCTAssertTrue(failure?.message.contains("flow sequence") == true, failure?.message ?? "")
    }

    func testATabIndentIsExplained() {
        let failure = error("name: a\nnamespaces:\n\t- name: a\n")
        XCTAssertEqual(failure?.mark, SourceMark(line: 3, column: 1))
        XCTAssertTrue(failure?.message.hasSuffix("indent with spaces") == true, failure?.message ?? "")
    }

    func testNonScalarKeysAreRefused() {
        XCTAssertEqual(error("? [a, b]\n: 1\n")?.reason, .nonScalarKey)
    }

    func testASingleDocumentIsRequiredWhereAsked() throws {
        XCTAssertThrowsError(try YAML.parseDocument(Array("a: 1\n---\nb: 2\n".utf8)))
        XCTAssertNil(try YAML.parseDocument([]))
        XCTAssertEqual(try YAML.parseDocuments(Array("a: 1\n---\nb: 2\n".utf8)).count, 2)
    }

    func testEmittedYAMLReadsBackAsTheSameValues() throws {
        let value: JSON = [
            "plain": "hello", "no": "no", "on": "on", "number": "123", "octal": "0777", "float": "1.5", "empty": "",
            "bool": "true", "null": "null", "tilde": "~", "colon": "a: b", "hash": "x #y", "multi": "line one\nline two\n",
            "unicode": "café ✓", "int": 42, "real": .number("2.5"), "flag": false, "nothing": nil,
            "list": ["a", 1, ["nested": true]], "emptyList": [], "emptyObject": [:], "time": "12:30",
        ]
        let text = YAML.emit([value, ["second": "doc"]])
        let documents = try YAML.parseDocuments(Array(text.utf8))
        XCTAssertEqual(documents.map(\.json), [value, ["second": "doc"]])
        XCTAssertTrue(text.contains("\"no\": \"no\""), text)
        XCTAssertTrue(text.contains("number: \"123\""), text)
        XCTAssertTrue(text.contains("plain: hello"), text)
        XCTAssertEqual(text, YAML.emit([value, ["second": "doc"]]), "emitting is deterministic")
    }
}
