/// Reads a NumPy .npy file (format 1.0, 2.0 or 3.0) of numbers into Doubles, strictly:
/// the header must be the dict NumPy writes (`descr`, `fortran_order`, `shape`), the
/// dtype a little- or big-endian float (f4, f8), signed (i1–i8) or unsigned (u1–u8)
/// integer, and the data exactly as long as the shape says. Anything else (object
/// arrays, structured dtypes, complex, pickles, a truncated file) is refused with one line.
/// Fortran-order arrays are returned in C order.
public enum NPYReader {
    public struct Array: Equatable, Sendable {
        /// Dimensions, outermost first.
        public let shape: [Int]
        /// Values in C (row-major) order.
        public let values: [Double]
    }

    /// The most elements a file may hold (2^31: a 46,000-region matrix).
    public static let maxElements = 1 << 31

    public static func parse(_ bytes: [UInt8], source: String) throws(SchemaError) -> Array {
        func fail(_ message: String) -> SchemaError {
            SchemaError(source: source, key: nil, message: "not a .npy file NumPy's numpy.save writes: \(message)")
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Swift.Array(bytes[0..<6]) == magic else { throw fail("it does not start with \\x93NUMPY") }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major), minor == 0 else { throw fail("format version \(major).\(minor); versions 1.0, 2.0 and 3.0 are read") }
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw fail("the header is cut short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerLength <= 1 << 20, headerStart + headerLength <= bytes.count else { throw fail("the header length \(headerLength) runs past the end of the file") }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        if major < 3, headerBytes.contains(where: { $0 >= 0x80 }) { throw fail("the header is not ASCII") }
        let header = String(decoding: headerBytes, as: UTF8.self)
        var parser = HeaderParser(text: header)
        var dictionary = try parser.parse { message throws(SchemaError) in throw fail(message) }
        guard case .text(let descr)? = dictionary.removeValue(forKey: "descr"),
              case .flag(let fortran)? = dictionary.removeValue(forKey: "fortran_order"),
              case .tuple(let shape)? = dictionary.removeValue(forKey: "shape"), dictionary.isEmpty
        else { throw fail("the header must hold exactly 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a tuple)") }
        guard descr.utf8.count == 3 else { throw fail("dtype '\(descr.excerpt)' is not a plain number type; save the array as float64 ('<f8')") }
        let chars = Swift.Array(descr.utf8)
        let order = chars[0], kind = chars[1]
        guard let size = Int(String(UnicodeScalar(chars[2]))), [1, 2, 4, 8].contains(size),
              order == UInt8(ascii: "<") || order == UInt8(ascii: ">") || (order == UInt8(ascii: "|") && size == 1),
              kind == UInt8(ascii: "f") && (size == 4 || size == 8) || kind == UInt8(ascii: "i") || kind == UInt8(ascii: "u")
        else { throw fail("dtype '\(descr.excerpt)' is not read; save the array as float64 ('<f8'), float32 or integers") }
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw fail("a negative dimension in the shape") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= maxElements else { throw fail("the shape \(shape) holds more than \(maxElements) elements") }
            count = product
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * size else {
            throw fail("the shape \(shape) of '\(descr)' needs \(count * size) bytes of data, the file has \(bytes.count - dataStart)")
        }
        let bigEndian = order == UInt8(ascii: ">")
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<count {
                var word: UInt64 = 0
                let at = dataStart + index * size
                for k in 0..<size {
                    let byte = UInt64(buffer[at + (bigEndian ? size - 1 - k : k)])
                    word |= byte << (8 * UInt64(k))
                }
                switch (kind, size) {
                case (UInt8(ascii: "f"), 8): values[index] = Double(bitPattern: word)
                case (UInt8(ascii: "f"), _): values[index] = Double(Float(bitPattern: UInt32(word)))
                case (UInt8(ascii: "u"), _): values[index] = Double(word)
                default:
                    let shift = UInt64(64 - 8 * size)
                    values[index] = Double(Int64(bitPattern: word << shift) >> Int64(shift))
                }
            }
        }
        if fortran && shape.count > 1 {
            // Column-major: the first index varies fastest. Reorder to row-major.
            var reordered = [Double](repeating: 0, count: count)
            var strides = [Int](repeating: 1, count: shape.count)
            for d in 1..<shape.count { strides[d] = strides[d - 1] * shape[d - 1] }
            var index = [Int](repeating: 0, count: shape.count)
            for c in 0..<count {
                var f = 0
                for d in 0..<shape.count { f += index[d] * strides[d] }
                reordered[c] = values[f]
                var d = shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
            values = reordered
        }
        return Array(shape: shape, values: values)
    }

    enum HeaderValue: Equatable {
        case text(String)
        case flag(Bool)
        case tuple([Int])
    }

    /// The header's Python dict literal, as NumPy writes it: string keys, and values that
    /// are strings, True/False or tuples of integers.
    struct HeaderParser {
        let chars: [UInt8]
        var at = 0

        init(text: String) { chars = Swift.Array(text.utf8) }

        mutating func parse(_ fail: (String) throws(SchemaError) -> Never) throws(SchemaError) -> [String: HeaderValue] {
            var result: [String: HeaderValue] = [:]
            skipSpace()
            guard take(UInt8(ascii: "{")) else { try fail("the header is not a Python dict") }
            while true {
                skipSpace()
                if take(UInt8(ascii: "}")) { break }
                guard let key = string() else { try fail("a header key is not a quoted string") }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { try fail("no ':' after '\(key.excerpt)' in the header") }
                skipSpace()
                let value: HeaderValue
                if let text = string() {
                    value = .text(text)
                } else if word("True") {
                    value = .flag(true)
                } else if word("False") {
                    value = .flag(false)
                } else if take(UInt8(ascii: "(")) {
                    var items: [Int] = []
                    while true {
                        skipSpace()
                        if take(UInt8(ascii: ")")) { break }
                        var digits = 0
                        var number = 0
                        while at < chars.count, chars[at] >= 0x30, chars[at] <= 0x39, digits < 12 {
                            number = number * 10 + Int(chars[at] - 0x30)
                            at += 1
                            digits += 1
                        }
                        guard digits > 0, digits < 12 else { try fail("the shape is not a tuple of whole numbers") }
                        items.append(number)
                        skipSpace()
                        if take(UInt8(ascii: ",")) { continue }
                        guard take(UInt8(ascii: ")")) else { try fail("the shape tuple is not closed") }
                        break
                    }
                    value = .tuple(items)
                } else {
                    try fail("the value of '\(key.excerpt)' in the header is not a string, True/False or a tuple")
                }
                guard result[key] == nil else { try fail("the header repeats '\(key.excerpt)'") }
                result[key] = value
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                skipSpace()
                guard take(UInt8(ascii: "}")) else { try fail("the header dict is not closed") }
                break
            }
            skipSpace()
            guard at == chars.count else { try fail("text after the header dict") }
            return result
        }

        mutating func skipSpace() {
            while at < chars.count, chars[at] == 0x20 || chars[at] == 0x0A || chars[at] == 0x09 || chars[at] == 0x0D { at += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard at < chars.count, chars[at] == byte else { return false }
            at += 1
            return true
        }

        mutating func word(_ text: String) -> Bool {
            let bytes = Swift.Array(text.utf8)
            guard at + bytes.count <= chars.count, Swift.Array(chars[at..<(at + bytes.count)]) == bytes else { return false }
            at += bytes.count
            return true
        }

        mutating func string() -> String? {
            guard at < chars.count, chars[at] == UInt8(ascii: "'") || chars[at] == UInt8(ascii: "\"") else { return nil }
            let quote = chars[at]
            var end = at + 1
            while end < chars.count, chars[end] != quote, chars[end] != UInt8(ascii: "\\") { end += 1 }
            guard end < chars.count, chars[end] == quote else { return nil }
            let text = String(decoding: chars[(at + 1)..<end], as: UTF8.self)
            at = end + 1
            return text
        }
    }
}
