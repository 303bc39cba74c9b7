/// A problem with what the user asked for: one line that names it and says the fix.
/// The CLI prints it as `multirun: <message>` and exits 2; nothing has started.
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
