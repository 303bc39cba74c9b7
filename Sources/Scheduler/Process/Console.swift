import Glibc

/// multirun's own lines on the terminal: one write(2) per line, so they appear as they
/// happen even through a pipe, and never interleave mid-line with another writer.
public struct Console: Sendable {
    public let fd: Int32

    public static let standardOutput = Console(fd: 1)
    public static let standardError = Console(fd: 2)

    public func line(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        FileIO.writeAll(fd, bytes)
    }

    public var isTerminal: Bool { isatty(fd) == 1 }
}
