import Foundation
import Model
import Sessions

/// Follows the agent's output for what it has used so far. Two line forms count, each a JSON object alone on a line:
/// Claude Code's stream-json `{"type":"result", "total_cost_usd": …, "usage": {"input_tokens", "output_tokens"}, "result": …}`,
/// and the runner protocol's own `{"type":"usage", "inputTokens", "outputTokens", "cost"}` (cumulative), which any
/// framework (a script) may print. Everything else is just output.
public struct UsageMeter: Sendable, Hashable {
    public private(set) var usage = RunnerSummary.Usage()
    /// The agent's own last word, when it gave one (Claude Code's `result` text).
    public private(set) var resultText: String?
    private var pending: [UInt8] = []

    public init() {}

    /// Feeds a chunk of output; lines may be split across chunks.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                line(pending)
                pending.removeAll(keepingCapacity: true)
            } else if pending.count < 1 << 20 {
                pending.append(byte)
            }
        }
    }

    private mutating func line(_ bytes: [UInt8]) {
        guard bytes.first == UInt8(ascii: "{"), let json = try? JSON(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        func int(_ value: JSON?) -> Int? { if case .int(let n)? = value, n >= 0 { return n }; return nil }
        func decimal(_ value: JSON?) -> Amount? {
            switch value {
            case .string(let text)?: return Amount(text)
            case .number(let text)? where !text.hasPrefix("-") && !text.lowercased().contains("e"): return Amount(Self.sixDecimals(text))
            case .int(let n)? where n >= 0: return Amount(String(n))
            default: return nil
            }
        }
        switch json["type"]?.stringValue {
        case "usage":
            usage = .init(inputTokens: int(json["inputTokens"]) ?? usage.inputTokens, outputTokens: int(json["outputTokens"]) ?? usage.outputTokens,
                          cost: decimal(json["cost"]) ?? usage.cost)
        case "result":
            usage = .init(inputTokens: int(json["usage"]?["input_tokens"]) ?? usage.inputTokens,
                          outputTokens: int(json["usage"]?["output_tokens"]) ?? usage.outputTokens,
                          cost: decimal(json["total_cost_usd"]) ?? usage.cost)
            if let text = json["result"]?.stringValue { resultText = text }
        default: return
        }
    }

    /// `0.0123456789` → `0.012345`: Amount keeps six decimals.
    static func sixDecimals(_ text: String) -> String {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return text }
        return "\(parts[0]).\(parts[1].prefix(6))"
    }
}
