import Glibc

/// The raw bytes of the command line: Swift's `CommandLine.arguments` replaces invalid
/// UTF-8 with U+FFFD, which would make `--results r\x9b` write to another folder than the
/// one named. Such an argument is refused instead.
public enum ArgumentBytes {
    /// One line naming the first argument (1-based, after the program) that is not valid
    /// UTF-8, or nil when all are.
    public static func problem(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> String? {
        guard argc > 1 else { return nil }
        for index in 1..<Int(argc) {
            guard let word = argv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(word).assumingMemoryBound(to: UInt8.self), count: strlen(word))
            var offset = 0
            while offset < bytes.count {
                if bytes[offset] < 0x80 { offset += 1; continue }
                guard let (_, length) = ConfigEncoding.decodeUTF8(bytes, at: offset) else {
                    let shown = Console.escaped(String(decoding: bytes, as: UTF8.self)).excerpt
                    return "argument \(index) ('\(shown)') is not valid UTF-8 (byte \(offset + 1) is 0x\(String(bytes[offset], radix: 16, uppercase: true))); name files in UTF-8, or rename this one"
                }
                offset += length
            }
        }
        return nil
    }
}
