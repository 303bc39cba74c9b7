/// Decimal digits appended straight to a byte buffer: records, timestamps and CSV rows
/// are built as bytes, because building them from String pieces cost more than the spawn.
enum DecimalText {
    /// `value` in decimal, zero-padded to `width` digits (more when it needs them).
    static func append(_ value: Int64, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var power: UInt64 = 1
        var digits = 1
        while magnitude / power >= 10 {
            power *= 10
            digits += 1
        }
        if width > digits { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
        while power > 0 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude / power % 10))
            power /= 10
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends the string's UTF-8 bytes in one copy (a native String is contiguous).
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
