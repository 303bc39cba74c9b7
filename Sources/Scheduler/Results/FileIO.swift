import CSystem
import Glibc

/// Who may read a file that multirun creates.
public enum FileAccess: Sendable {
    /// Files under results/: 0644 less the umask (results folders are shared on purpose).
    case shared
    /// Queue files (journal, logs, exit records, environments, locks): 0600 whatever the
    /// umask or the folder's mode; an existing file with wider bits is narrowed to them.
    case owner

    var mode: mode_t { self == .shared ? 0o644 : 0o600 }
}

/// Small file helpers over raw system calls: whole-buffer writes, whole-file reads,
/// `mkdir -p`, and atomic replacement (temp file, fsync, rename, fsync of the folder).
///
/// Every file multirun creates or truncates under results/ or the queue folder goes through
/// `openForWriting`, `createTemporary` or `writeAtomically`: none follows a symbolic link at
/// the file's own name (someone who can write a shared results folder could plant one that
/// points at any file the running user may write). `foreignSymlink` finds a link on the way
/// to a folder that belongs to another user, which the commands refuse before starting.
public enum FileIO {
    /// Writes every byte, retrying short writes and EINTR. Returns false on an error.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    public static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open \(path)", errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        // Uninitialised: zeroing 64 KiB would touch 16 pages that a small file never uses.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let count = Glibc.read(fd, chunk.baseAddress, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot read \(path)", errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
    }

    public static func readText(_ path: String) throws(SystemError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// `mkdir -p`; fine if the folder exists.
    /// mkdir first, parents only when it says ENOENT: one system call in the usual case (a
    /// config's results folder, made after each of its tasks).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if path.isEmpty || mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.startIndex else {
            throw SystemError("cannot create folder \(path)", errno: errno)
        }
        try makeDirectories(String(path[..<slash]), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw SystemError("cannot create folder \(path)", errno: errno)
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// An absolute path with `.`, `..` and repeated slashes resolved by its text alone
    /// (the folder need not exist yet): `/p/sub/../results//x` → `/p/results/x`.
    public static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The entries of `folder` but `.` and `..`; nil when it cannot be opened.
    public static func names(in folder: String) -> [String]? {
        guard let stream = opendir(folder) else { return nil }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The file's size in bytes, 0 if it cannot be read.
    public static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new file,
    /// never a torn one: write a temp file beside it, fsync, rename, fsync the folder.
    /// `durable: false` (a cache that can be rebuilt) skips both fsyncs: readers still see
    /// the old or the new file whole, but a power loss may lose the new one.
    /// `access`: who may read the new file. The temp file is new (`createTemporary`), and
    /// rename replaces a link at `path` itself, never what it points to.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], durable: Bool = true, access: FileAccess = .shared) throws(SystemError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let (fd, temporary) = try createTemporary(beside: path, access: access)
        let ok = writeAll(fd, bytes) && (!durable || fsync(fd) == 0)
        let code = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            throw SystemError("cannot write \(temporary)", errno: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SystemError("cannot rename \(temporary) to \(path)", errno: code)
        }
        guard durable else { return }
        let dirFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    public static func writeAtomically(_ path: String, text: String) throws(SystemError) {
        try writeAtomically(path, Array(text.utf8))
    }

    /// Creates `<path>.tmp-<pid>` to write: a new file (O_CREAT|O_EXCL|O_NOFOLLOW), never
    /// one that is there, for a link planted under that name would have us write through
    /// it. Whatever is there (a stale temp of an earlier process, or a link) is removed
    /// first, never followed.
    public static func createTemporary(beside path: String, access: FileAccess) throws(SystemError) -> (fd: Int32, path: String) {
        let temporary = path + ".tmp-\(getpid())"
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = open(temporary, flags, access.mode)
        if fd < 0 && errno == EEXIST {
            unlink(temporary)
            fd = open(temporary, flags, access.mode)
        }
        guard fd >= 0 else { throw SystemError("cannot write \(temporary)", errno: errno) }
        if access == .owner { narrow(fd) }
        return (fd, temporary)
    }

    /// Opens `path` to write, creating it (`flags`: the access mode, plus O_TRUNC or
    /// O_APPEND as wanted), never through a symbolic link at that name: a link there is
    /// refused (`symlinkRefused`). An `.owner` file ends up 0600 even if it was there.
    public static func openForWriting(_ path: String, _ flags: Int32, access: FileAccess) throws(SystemError) -> Int32 {
        let fd = open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, access.mode)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw symlinkRefused(path) }
            throw SystemError("cannot open \(path)", errno: code)
        }
        if access == .owner { narrow(fd) }
        return fd
    }

    /// Why a file was not written: a symbolic link sits at its name.
    public static func symlinkRefused(_ path: String) -> SystemError {
        SystemError("\(path) is a symbolic link, and multirun never writes through one in a results or queue folder; remove it (rm \(path)) and run again",
                    errno: ELOOP, complete: true)
    }

    /// Takes the group and other bits off the file open at `fd` (made under umask 000, or
    /// by an older multirun that made it 0644).
    static func narrow(_ fd: Int32) {
        var info = stat()
        if fstat(fd, &info) == 0 && info.st_mode & 0o077 != 0 && info.st_uid == geteuid() { _ = fchmod(fd, info.st_mode & 0o700) }
    }

    /// The first symbolic link on the way to `path` (itself included) that belongs to a user
    /// other than the one running and root, with its owner; nil when there is none. Links
    /// of this user or root are followed, their targets checked the same way (results ->
    /// /scratch/me is fine). Stops at the first part that does not exist: nothing past it
    /// can lead anywhere yet. `verified`: paths found to lead through no such link (a run
    /// checks thousands of results folders under one root).
    public static func foreignSymlink(on path: String, verified: inout Set<String>) -> (link: String, owner: uid_t)? {
        let me = geteuid()
        var pending = Array(path.split(separator: "/").reversed())
        var current = path.hasPrefix("/") ? "/" : ""
        var hops = 0
        func join(_ base: String, _ part: Substring) -> String {
            base.isEmpty ? String(part) : base == "/" ? "/" + part : base + "/" + part
        }
        while let part = pending.popLast() {
            if part == "." { continue }
            if part == ".." {
                // `current` holds no link (each was replaced by its target): its parent is textual.
                if current == "/" { continue }
                if current.isEmpty || current == ".." || current.hasSuffix("/..") {
                    current = join(current, part)
                } else if let slash = current.utf8.lastIndex(of: UInt8(ascii: "/")) {
                    current = slash == current.startIndex ? "/" : String(current[..<slash])
                } else {
                    current = ""
                }
                continue
            }
            let next = join(current, part)
            if verified.contains(next) {
                current = next
                continue
            }
            var info = stat()
            guard lstat(next, &info) == 0 else { return nil }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                verified.insert(next)
                current = next
                continue
            }
            if info.st_uid != me && info.st_uid != 0 { return (next, info.st_uid) }
            hops += 1
            // A loop: opening anything through it fails on its own.
            guard hops <= 40, let target = readLink(next) else { return nil }
            if target.hasPrefix("/") { current = "/" }
            pending += target.split(separator: "/").reversed()
        }
        return nil
    }

    /// The text of the symbolic link at `path`.
    static func readLink(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { readlink(path, $0, raw.count) }
        }
        guard count > 0, count < buffer.count else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

extension FileIO {
    /// Appends `bytes` (whole lines) to the file open with O_APPEND at `fd`, whole or not at
    /// all: a torn tail that an earlier failed write left is cut back to its last line
    /// break first, and a write (or, with `sync`, an fsync) that fails is cut back off, so a
    /// full disk never glues the next line to half of this one. The caller keeps other
    /// appenders out while it runs (a lock).
    public static func appendWholeLines(_ fd: Int32, _ bytes: [UInt8], path: String, sync: Bool) throws(SystemError) {
        guard !bytes.isEmpty else { return }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("cannot stat \(path)", errno: errno) }
        let size = lastLineEnd(fd, size: Int(info.st_size))
        if size != Int(info.st_size) { _ = ftruncate(fd, off_t(size)) }
        #if DEBUG
        if let offset = TestFaults.failingOffset(for: path), size + bytes.count > offset {
            // The disk fills at byte `offset`: what fits lands, the write fails, and the
            // failure path below cuts it back off.
            if offset > size { _ = writeAll(fd, Array(bytes.prefix(offset - size))) }
            _ = ftruncate(fd, off_t(size))
            throw SystemError("cannot append to \(path)", errno: ENOSPC)
        }
        #endif
        guard writeAll(fd, bytes), !sync || fsync(fd) == 0 else {
            let code = errno
            _ = ftruncate(fd, off_t(size))
            throw SystemError("cannot append to \(path)", errno: code)
        }
    }

    /// The length of the file's complete lines: `size` when it ends with a line break (or
    /// is empty), else just after its last one.
    static func lastLineEnd(_ fd: Int32, size: Int) -> Int {
        var end = size
        var chunk = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - chunk.count)
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
            guard count == end - start else { return size }
            if end == size && chunk[count - 1] == UInt8(ascii: "\n") { return size }
            if let newline = chunk[..<count].lastIndex(of: UInt8(ascii: "\n")) { return start + newline + 1 }
            end = start
        }
        return 0
    }

    /// Reserves `length` bytes of disk past the end of the file at `fd` (see
    /// `csystem_reserve`); false when the disk has no room. A filesystem that cannot
    /// reserve counts as having room.
    public static func reserve(_ fd: Int32, _ length: Int) -> Bool {
        var info = stat()
        guard length > 0, fstat(fd, &info) == 0 else { return true }
        return csystem_reserve(fd, info.st_size, off_t(length)) == 0 || errno != ENOSPC
    }
}

#if DEBUG
/// Test builds only: `MULTIRUN_TEST_FAIL_APPEND=NAME:OFFSET` makes appends to files named
/// NAME fail as a full disk would at byte OFFSET, so tests can hit exact offsets of the
/// journal and key index appends.
enum TestFaults {
    static let failAppend: (name: String, offset: Int)? = {
        guard let text = Environment.value("MULTIRUN_TEST_FAIL_APPEND"), let colon = text.lastIndex(of: ":"),
              let offset = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), offset)
    }()

    static func failingOffset(for path: String) -> Int? {
        guard let fault = failAppend, path.hasSuffix("/" + fault.name) else { return nil }
        return fault.offset
    }
}
#endif

/// An append-only file: each `append` is one write(2) of whole lines, so a crash keeps
/// every line written before it (at worst the last line is torn, and readers skip it).
public final class AppendOnlyFile {
    public let path: String
    private let fd: Int32

    public init(path: String, access: FileAccess) throws(SystemError) {
        self.path = path
        fd = try FileIO.openForWriting(path, O_RDWR | O_APPEND, access: access)
    }

    deinit { close(fd) }

    public func append(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        FileIO.writeAll(fd, bytes)
    }

    /// Appends `text` as is (whole lines, already newline-terminated), in one write.
    public func append(_ text: String) { FileIO.writeAll(fd, Array(text.utf8)) }

    /// Appends `bytes` as is (whole lines, already newline-terminated), in one write.
    public func append(_ bytes: [UInt8]) { FileIO.writeAll(fd, bytes) }

    public func sync() { fsync(fd) }

    /// Appends whole lines, whole or not at all (`FileIO.appendWholeLines`), holding the
    /// file's own lock against other appenders meanwhile.
    public func appendWhole(_ bytes: [UInt8], sync: Bool) throws(SystemError) {
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        try FileIO.appendWholeLines(fd, bytes, path: path, sync: sync)
    }

    /// Reserves room for `length` more bytes (`FileIO.reserve`).
    public func reserve(_ length: Int) -> Bool { FileIO.reserve(fd, length) }
}
