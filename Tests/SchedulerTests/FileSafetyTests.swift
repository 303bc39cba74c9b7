import Foundation
import Glibc
import Testing
@testable import Scheduler

/// `FileIO.foreignSymlink`, `openForWriting` and `createTemporary` on planted links.
@Suite(.serialized)
struct FileSafetyTests {
    func scratch() throws -> String {
        var bytes = Array((NSTemporaryDirectory() + "file-safety-XXXXXX").utf8CString)
        guard let made = mkdtemp(&bytes) else { throw POSIXError(.EIO) }
        return String(cString: made)
    }

    @Test func ownLinksAreFollowedAndOthersFound() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real/sub", withIntermediateDirectories: true)
        #expect(symlink(root + "/real", root + "/mine") == 0)
        #expect(symlink("real/sub", root + "/relative") == 0)
        var verified: Set<String> = []
        #expect(FileIO.foreignSymlink(on: root + "/mine/sub/missing/deeper", verified: &verified) == nil)
        #expect(FileIO.foreignSymlink(on: root + "/relative/../sub/./x", verified: &verified) == nil)
        #expect(FileIO.foreignSymlink(on: "relative/path/that/is/not/there", verified: &verified) == nil)
        guard geteuid() == 0 else {
            print("skipped the other user's link: needs root")
            return
        }
        #expect(symlink("real", root + "/theirs") == 0)
        #expect(lchown(root + "/theirs", 65534, 65534) == 0)
        // Reached directly, through one of our own links, and after a `..`.
        #expect(symlink("theirs", root + "/mine-to-theirs") == 0)
        for path in [root + "/theirs/sub", root + "/mine-to-theirs/sub", root + "/real/../theirs"] {
            var fresh: Set<String> = []
            let found = FileIO.foreignSymlink(on: path, verified: &fresh)
            #expect(found?.link == root + "/theirs" && found?.owner == 65534, "\(path): \(String(describing: found))")
        }
    }

    @Test func writesNeverGoThroughALink() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "keep\n".write(toFile: root + "/victim", atomically: false, encoding: .utf8)
        #expect(symlink(root + "/victim", root + "/log") == 0)
        #expect(throws: (any Error).self) { try FileIO.openForWriting(root + "/log", O_WRONLY | O_TRUNC, access: .shared) }
        #expect(symlink(root + "/victim", root + "/out.tmp-\(getpid())") == 0)
        try FileIO.writeAtomically(root + "/out", Array("new\n".utf8), access: .owner)
        #expect(try String(contentsOfFile: root + "/victim", encoding: .utf8) == "keep\n")
        #expect(try String(contentsOfFile: root + "/out", encoding: .utf8) == "new\n")
        var info = stat()
        #expect(lstat(root + "/out", &info) == 0 && info.st_mode & 0o777 == 0o600)
        // An existing queue file made 0644 (an older multirun) is narrowed.
        try "x\n".write(toFile: root + "/old", atomically: false, encoding: .utf8)
        chmod(root + "/old", 0o644)
        close(try FileIO.openForWriting(root + "/old", O_WRONLY | O_APPEND, access: .owner))
        #expect(stat(root + "/old", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }
}
