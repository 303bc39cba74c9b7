/// `--retries N --retry-on CODES`: which ended attempts run again. Pure.
///
/// An attempt's code is its exit code; a kill by signal N counts as 128+N (as shells
/// report it), and a timeout as 124 (as timeout(1) reports it). Interrupted attempts (a
/// stop signal, a halt) and tasks that never started are never retried.
public struct RetryPolicy: Equatable, Sendable {
    /// How many more attempts a failed task gets (0: none).
    public var retries: Int
    /// The codes that are retried; nil: any failure.
    public var codes: [Int32]?

    public init(retries: Int = 0, codes: [Int32]? = nil) {
        self.retries = retries
        self.codes = codes
    }

    /// The code `--retry-on` compares: the exit code, 128+N for signal N, 124 for a timeout.
    public static func code(status: TaskStatus, exit: TaskExit) -> Int32? {
        switch status {
        case .timedOut: return 124
        case .failed: return exit.signal.map { 128 + $0 } ?? exit.exitCode ?? 127
        default: return nil
        }
    }

    /// Whether attempt `attempt` (1-based) that ended so runs again.
    public func retries(attempt: Int, status: TaskStatus, exit: TaskExit) -> Bool {
        guard attempt <= retries, let code = Self.code(status: status, exit: exit) else { return false }
        return codes.map { $0.contains(code) } ?? true
    }

    /// `--retry-on 137,143`: exit codes 1 to 255, commas or blanks between.
    public static func parseCodes(_ text: String) -> [Int32]? {
        let words = text.split(whereSeparator: { $0 == "," || $0 == " " })
        guard !words.isEmpty else { return nil }
        var codes: [Int32] = []
        for word in words {
            guard let code = Int32(word), code >= 1, code <= 255 else { return nil }
            if !codes.contains(code) { codes.append(code) }
        }
        return codes
    }
}

/// `--halt now|soon,fail=N|fail=P%|success=N|success=P%` as GNU parallel reads it: once
/// the condition holds, `soon` starts nothing new and lets running tasks end; `now` also
/// stops the running ones. Only a task's last attempt counts: an attempt that is retried
/// neither failed nor succeeded yet. Pure.
public struct HaltPolicy: Equatable, Sendable {
    public enum When: String, Sendable { case now, soon }
    public enum Count: Equatable, Sendable {
        case tasks(Int)
        /// Percent of the tasks ended so far, once at least 3 have ended (so the first
        /// failure of a long run does not end it).
        case percent(Double)
    }

    public var when: When
    /// true: counts failed (and timed-out) tasks; false: succeeded ones.
    public var onFailure: Bool
    public var count: Count

    public init(when: When, onFailure: Bool, count: Count) {
        self.when = when
        self.onFailure = onFailure
        self.count = count
    }

    /// The fewest ended tasks before a percentage counts.
    public static let percentMinimum = 3

    /// Whether the run halts, given its ended tasks so far.
    public func holds(failed: Int, succeeded: Int, ended: Int) -> Bool {
        let counted = onFailure ? failed : succeeded
        switch count {
        case .tasks(let n): return counted >= n
        case .percent(let p): return ended >= Self.percentMinimum && Double(counted) * 100 >= p * Double(ended)
        }
    }

    /// The flag as written back (`now,fail=1`, `soon,success=50%`).
    public var text: String {
        let amount: String
        switch count {
        case .tasks(let n): amount = String(n)
        case .percent(let p): amount = (p == p.rounded() ? String(Int(p)) : String(p)) + "%"
        }
        return "\(when.rawValue),\(onFailure ? "fail" : "success")=\(amount)"
    }

    /// Why the run halted, for the closing line (`--halt now,fail=1: 1 task failed`).
    public func reason(failed: Int, succeeded: Int) -> String {
        let n = onFailure ? failed : succeeded
        let what = onFailure ? "failed" : "succeeded"
        return "--halt \(text): \(n) task\(n == 1 ? "" : "s") \(what)"
    }

    /// Parses the flag's value; nil with the problem otherwise.
    public static func parse(_ text: String) -> Result<HaltPolicy, HaltSyntax> {
        let parts = text.split(separator: ",", maxSplits: 1).map(String.init)
        guard parts.count == 2, let when = When(rawValue: parts[0].lowercased()) else { return .failure(HaltSyntax()) }
        let condition = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
        guard condition.count == 2 else { return .failure(HaltSyntax()) }
        let onFailure: Bool
        switch condition[0].lowercased() {
        case "fail": onFailure = true
        case "success": onFailure = false
        default: return .failure(HaltSyntax())
        }
        var amount = condition[1]
        if amount.hasSuffix("%") {
            amount.removeLast()
            guard let p = Double(amount), p.isFinite, p > 0, p <= 100 else { return .failure(HaltSyntax()) }
            return .success(HaltPolicy(when: when, onFailure: onFailure, count: .percent(p)))
        }
        guard let n = Int(amount), n >= 1 else { return .failure(HaltSyntax()) }
        return .success(HaltPolicy(when: when, onFailure: onFailure, count: .tasks(n)))
    }

    public struct HaltSyntax: Error {}
}

/// Time limits as people write them: seconds (`90`, `1.5`), a number with a unit (`30s`,
/// `45m`, `2h`, `1d`, `1.5h`), or Slurm's forms `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`
/// and `D-HH:MM:SS`. A bare number is seconds (Slurm reads minutes: write `120m`). Pure.
public enum TimeLimit {
    public static func seconds(_ raw: String) -> Double? {
        let text = raw.trimming(" ")
        guard !text.isEmpty else { return nil }
        if let value = Double(text) { return value.isFinite ? value : nil }
        if let last = text.last, let unit = unitSeconds(last) {
            let number = text.dropLast()
            guard !number.isEmpty, number.allSatisfy({ $0.isASCIIDigit || $0 == "." }), let value = Double(number), value.isFinite else { return nil }
            return value * unit
        }
        // Slurm: [D-]HH[:MM[:SS]] with days, or MM:SS / HH:MM:SS without.
        var days = 0.0
        var rest = Substring(text)
        if let dash = text.firstIndex(of: "-") {
            guard let d = wholeNumber(text[..<dash]) else { return nil }
            days = Double(d)
            rest = text[text.index(after: dash)...]
        }
        let fields = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count <= 3 else { return nil }
        var numbers: [Double] = []
        for (index, field) in fields.enumerated() {
            // Seconds may carry a fraction; the other fields are whole.
            if index == fields.count - 1 && index > 0, field.allSatisfy({ $0.isASCIIDigit || $0 == "." }), let value = Double(field), value < 60 {
                numbers.append(value)
                continue
            }
            guard let value = wholeNumber(field) else { return nil }
            if index > 0 && value >= 60 { return nil }
            numbers.append(Double(value))
        }
        let total: Double
        if text.contains("-") {
            // D-HH, D-HH:MM, D-HH:MM:SS
            let weights = [3600.0, 60, 1]
            total = zip(numbers, weights).reduce(0) { $0 + $1.0 * $1.1 }
            if numbers[0] >= 24 { return nil }
        } else {
            guard fields.count >= 2 else { return nil }
            // MM:SS or HH:MM:SS
            let weights = fields.count == 2 ? [60.0, 1] : [3600.0, 60, 1]
            total = zip(numbers, weights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return days * 86400 + total
    }

    private static func unitSeconds(_ unit: Character) -> Double? {
        switch unit {
        case "s": return 1
        case "m": return 60
        case "h": return 3600
        case "d": return 86400
        default: return nil
        }
    }

    private static func wholeNumber(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 12, text.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(text)
    }

    /// The bounds of every time limit: a millisecond to 1e9 s (about 31 years).
    public static let minimum = 0.001
    public static let maximum = 1e9

    public static let problem = "is not a positive number of seconds (90) or a time limit such as 30s, 45m, 2h, 1d or HH:MM:SS (also D-HH:MM:SS)"

    /// The problem with `raw` as a time limit, or nil with its seconds.
    public static func check(_ raw: String) -> (seconds: Double?, problem: String?) {
        guard let value = seconds(raw) else {
            return (nil, problem)
        }
        if value <= 0 { return (nil, problem) }
        if value < minimum { return (nil, "is less than a millisecond; give at least 0.001 seconds") }
        if value > maximum { return (nil, "is too long; give at most 1000000000 seconds (about 31 years)") }
        return (value, nil)
    }
}
