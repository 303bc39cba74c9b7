import Glibc

/// A NULL-terminated array of C strings that owns its memory: the parent's environment,
/// copied once for a whole run.
public final class CStringArray {
    public let pointers: [UnsafeMutablePointer<CChar>?]

    public init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    /// From raw entries (environment bytes need not be UTF-8); each gets its NUL here.
    public init(bytes entries: [ArraySlice<UInt8>]) {
        pointers = entries.map { entry in
            let pointer = malloc(entry.count + 1)!.assumingMemoryBound(to: CChar.self)
            entry.withUnsafeBytes { raw in
                if let base = raw.baseAddress { memcpy(pointer, base, raw.count) }
            }
            pointer[entry.count] = 0
            return pointer
        } + [nil]
    }

    deinit { for pointer in pointers { free(pointer) } }
}

/// What a child is started with, its argv and then its own environment variables, as
/// NUL-terminated strings in one byte buffer, plus the pointer arrays posix_spawn takes.
/// A loop reuses one from launch to launch (`reset()`): filling it makes no allocation per
/// string, and it is filled on the path between one task's end and the next one's start.
public struct ExecStrings {
    /// The parent's variables, passed before ours (which replace nothing: the caller
    /// filtered out the names it sets).
    private let inherited: CStringArray?
    private var bytes: [UInt8] = []
    private var argumentStarts: [Int] = []
    private var variableStarts: [Int] = []
    private var argvPointers: [UnsafeMutablePointer<CChar>?] = []
    private var envPointers: [UnsafeMutablePointer<CChar>?] = []

    public init(inheriting inherited: CStringArray? = nil) {
        self.inherited = inherited
        // The parent's pointers stay at the front of envp; each spawn only adds ours.
        envPointers = Array(inherited?.pointers.dropLast() ?? [])
    }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        argumentStarts.removeAll(keepingCapacity: true)
        variableStarts.removeAll(keepingCapacity: true)
    }

    public mutating func argument(_ word: String) {
        argumentStarts.append(bytes.count)
        bytes.appendUTF8(word)
        bytes.append(0)
    }

    /// A whole `NAME=value` entry.
    public mutating func variable(_ entry: String) {
        variableStarts.append(bytes.count)
        bytes.appendUTF8(entry)
        bytes.append(0)
    }

    public mutating func variable(_ name: String, _ value: String) {
        begin(name)
        bytes.appendUTF8(value)
        bytes.append(0)
    }

    public mutating func variable(_ name: String, _ value: Int) {
        begin(name)
        DecimalText.append(Int64(value), to: &bytes)
        bytes.append(0)
    }

    /// `NAME=k/n`, as MULTIRUN_TASK reads.
    public mutating func variable(_ name: String, _ k: Int, of n: Int) {
        begin(name)
        DecimalText.append(Int64(k), to: &bytes)
        bytes.append(UInt8(ascii: "/"))
        DecimalText.append(Int64(n), to: &bytes)
        bytes.append(0)
    }

    private mutating func begin(_ name: String) {
        variableStarts.append(bytes.count)
        bytes.appendUTF8(name)
        bytes.append(UInt8(ascii: "="))
    }

    /// The argv and envp arrays, valid only inside `body`.
    mutating func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>, UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        // Taken out of self and put back, so their capacity is reused.
        var argv: [UnsafeMutablePointer<CChar>?] = []
        var envp: [UnsafeMutablePointer<CChar>?] = []
        swap(&argv, &argvPointers)
        swap(&envp, &envPointers)
        defer {
            swap(&argv, &argvPointers)
            swap(&envp, &envPointers)
        }
        argv.removeAll(keepingCapacity: true)
        envp.removeSubrange((inherited.map { $0.pointers.count - 1 } ?? 0)...)
        return bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress {
                // posix_spawn's arrays are of char *, but it only reads the strings.
                let text = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
                for start in argumentStarts { argv.append(text + start) }
                for start in variableStarts { envp.append(text + start) }
            }
            argv.append(nil)
            envp.append(nil)
            return argv.withUnsafeBufferPointer { argv in
                envp.withUnsafeBufferPointer { envp in body(argv.baseAddress!, envp.baseAddress!) }
            }
        }
    }
}
