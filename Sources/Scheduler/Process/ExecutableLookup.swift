import Glibc

/// Finds programs the way execvp would, once, before anything starts.
public enum ExecutableLookup {
    /// A path with a slash is taken as is; a bare name is searched on PATH.
    public static func resolve(_ name: String, path: String? = Environment.value("PATH")) -> String? {
        if name.contains("/") { return isExecutableFile(name) ? name : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    public static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    /// The running binary's path, from /proc/self/exe.
    public static func ownPath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The folder of the running binary, where runone sits beside multirun.
    public static func ownDirectory() -> String? {
        guard let path = ownPath(), let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}

/// Read access to the process environment without Foundation.
public enum Environment {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Every `NAME=value` entry of this process, in order.
    public static func entries() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }
}
