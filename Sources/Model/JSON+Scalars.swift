extension JSON {
    /// The integer, for `.int` (and a `.number` whose text is a whole number, as `1.0`).
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .number(let text): return Double(text).flatMap { $0 == $0.rounded() ? Int(exactly: $0) : nil }
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}
