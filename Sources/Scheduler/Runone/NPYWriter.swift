import Glibc

/// Writes a NumPy .npy (format 1.0) float64 array row by row, so a long run never holds
/// the whole array in memory. The file appears atomically at `finish()` (temp file,
/// fsync, rename); `abandon()` removes the partial file.
public final class NPYWriter {
    public let path: String
    private let temporary: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var failure: Int32 = 0

    public init(path: String, shape: [Int]) throws(SystemError) {
        self.path = path
        (fd, temporary) = try FileIO.createTemporary(beside: path, access: .shared)
        buffer = Self.header(shape: shape)
        buffer.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    /// Magic, version 1.0, header length, and a Python-dict header padded with spaces so
    /// the data starts on a 64-byte boundary.
    public static func header(shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8)
    }

    public func append(_ values: UnsafeBufferPointer<Double>) {
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { buffer.append(contentsOf: $0) }
        }
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        if failure == 0 && !FileIO.writeAll(fd, buffer) { failure = errno }
        buffer.removeAll(keepingCapacity: true)
    }

    public func finish() throws(SystemError) {
        flush()
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw SystemError("cannot write \(temporary)", errno: failure)
        }
        guard rename(temporary, path) == 0 else { throw SystemError("cannot rename \(temporary)", errno: errno) }
    }

    public func abandon() { unlink(temporary) }
}
