/// Decimal digits appended straight to a byte buffer: records, timestamps and CSV rows
/// are built as bytes, because building them from String pieces cost more than the spawn.
enum DecimalText {
    /// `value` in decimal, zero-padded to `width` digits (more when it needs them).
    static func append(_ value: Int64, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Digits from the last, into 20 bytes on the stack (UInt64.max has 20).
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let count = withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            return buffer.count - index
        }
        // Byte by byte: appending a slice of raw bytes goes through a generic path that
        // costs more than the digits.
        for _ in count..<max(width, count) { out.append(UInt8(ascii: "0")) }
        withUnsafeBytes(of: digits) { buffer in
            for index in (buffer.count - count)..<buffer.count { out.append(buffer[index]) }
        }
    }

    /// 00 to 99.
    static func appendTwoDigits(_ value: Int64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

extension Array where Element == UInt8 {
    /// Appends the string's UTF-8 bytes in one copy (a native String is contiguous).
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
