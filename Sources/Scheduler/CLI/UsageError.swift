/// A problem with what the user asked for: one line that names it and says the fix.
/// The CLI prints it as `multirun: <message>` and exits 2; nothing has started.
/// Several problems found together (every config of a plan is checked) are one line each.
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The lines as found: a newline inside one (from a file name) is text, which
    /// `Console.line` escapes, not a line break.
    public let lines: [String]
    public var message: String { lines.joined(separator: "\n") }

    public init(_ message: String) { lines = [message] }

    /// At most `shown` problems, one per line, then how many more there were, and what
    /// came of it (`outcome`) when there was more than one.
    public init(problems: [String], shown: Int = 20, outcome: String = "nothing was started") {
        var lines = Array(problems.prefix(shown))
        if problems.count > shown { lines.append("... and \(problems.count - shown) more problems") }
        if problems.count > 1 { lines.append("\(problems.count) problems; \(outcome)") }
        self.lines = lines
    }

    public var description: String { message }

    /// Each line of the message behind `prefix` (`multirun: `), ready to print.
    public func lines(prefixed prefix: String) -> [String] {
        lines.map { prefix + $0 }
    }
}

extension String {
    /// The text as a message quotes it: itself when short, else its start and its size, so
    /// a megabyte-long key or pattern cannot make a megabyte-long message.
    public var excerpt: String {
        guard utf8.count > 80 else { return self }
        return String(prefix(60)) + "… (\(utf8.count) bytes)"
    }
}
