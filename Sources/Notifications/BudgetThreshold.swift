import Model

/// A share of the month's budget that has been reached: 80 % and 100 %, each told once per month. The outbox key
/// (`tenant/budget.threshold/MONTH/PERCENT`) makes it exactly once however often the ledger is looked at.
public struct BudgetThreshold: Sendable, Hashable {
    public static let percents = [80, 100]

    public var month: String
    public var percent: Int

    public init(month: String, percent: Int) {
        self.month = month
        self.percent = percent
    }

    /// The thresholds `spent` has reached of `monthly` in `month`, lowest first. A zero budget has reached all.
    public static func reached(month: String, monthly: Amount, spent: Amount) -> [BudgetThreshold] {
        percents.filter { percent in
            // spent / monthly >= percent / 100, in integers (micros × 100 fits: budgets are at most 12 digits).
            spent.micros * 100 >= monthly.micros * Int64(percent)
        }.map { BudgetThreshold(month: month, percent: $0) }
    }
}
