import Glibc

/// multirun's own lines on the terminal: one write(2) per line, so they appear as they
/// happen even through a pipe, and never interleave mid-line with another writer.
public struct Console: Sendable {
    public let fd: Int32

    public static let standardOutput = Console(fd: 1)
    public static let standardError = Console(fd: 2)

    /// Writes `text` as one line: control characters in it (a newline in a file name, an
    /// escape sequence in an argument) are escaped (`Console.escaped`), never written raw.
    public func line(_ text: String) {
        var bytes = Array(Self.escaped(text).utf8)
        bytes.append(UInt8(ascii: "\n"))
        FileIO.writeAll(fd, bytes)
    }

    /// Writes a block of several lines as it is (help pages).
    public func block(_ text: String) {
        FileIO.writeAll(fd, Array((text + "\n").utf8))
    }

    /// `text` with each control character (C0, DEL and C1: U+0000–U+001F, U+007F–U+009F),
    /// the line and paragraph separators (U+2028, U+2029) and the bidirectional embeddings,
    /// overrides and isolates (U+202A–U+202E, U+2066–U+2069) written as an escape: `\n`,
    /// `\r`, `\t`, `\x1B`, `\u{85}`, `\u{202E}`. One message stays one line, and text from a
    /// file or an argument cannot drive the terminal or reorder what follows it.
    public static func escaped(_ text: String) -> String {
        // Almost every line has none: one pass over the bytes decides.
        var utf8 = text.utf8.makeIterator()
        var found = false
        var previous: UInt8 = 0
        while let byte = utf8.next() {
            // C0, DEL, C1 (0xC2 0x80–0x9F), and 0xE2: the lead byte of U+2028/2029 and the
            // bidirectional overrides, which would reorder the rest of the line on screen.
            if byte < 0x20 || byte == 0x7F || byte == 0xE2 || (previous == 0xC2 && (0x80...0x9F).contains(byte)) { found = true; break }
            previous = byte
        }
        guard found else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F: out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
            case 0x80...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public var isTerminal: Bool { isatty(fd) == 1 }
}
