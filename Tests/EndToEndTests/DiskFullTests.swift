import Foundation
import Glibc
import Testing

/// A full disk, for real: a size-limited tmpfs mounted in the scratch project (CI runs as
/// root; without the right to mount, these tests fail rather than pass unexercised).
@Suite(.serialized)
struct DiskFullTests {
    /// Mounts a tmpfs of `kilobytes` at `path` (made if missing) and fills all but `free`
    /// bytes of it with `filler`; the caller unmounts.
    func smallDisk(_ path: String, kilobytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k,mode=700") == 0, "cannot mount a tmpfs (run as root): \(String(cString: strerror(errno)))")
    }

    func fill(_ folder: String, leaving free: Int) throws {
        var info = statvfs()
        statvfs(folder, &info)
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        let size = max(0, available - free)
        let fd = open(folder + "/filler", O_WRONLY | O_CREAT, 0o600)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x78, count: 4096)
        var written = 0
        while written < size {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, min(chunk.count, size - written)) }
            if n <= 0 { break }
            written += n
        }
    }

    /// Every line of a JSON-lines file parses: nothing torn, nothing glued.
    func wholeLines(_ path: String) throws -> Int {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "torn line: \(line.prefix(80))") }
        #expect(text.isEmpty || text.hasSuffix("\n"))
        return lines.count
    }

    @Test func aSubmitOnAFullDiskQueuesNothingAndTheNextOneEverything() throws {
        let project = try Project()
        let queue = project.path("q")
        try smallDisk(queue, kilobytes: 512)
        defer { umount2(queue, Int32(MNT_DETACH)) }
        try project.write("jobs.txt", (1...400).map { "true # task \($0) with some padding to make the line longer" }.joined(separator: "\n") + "\n")
        // Room for next-id and the env file, not for 400 events.
        try fill(queue, leaving: 40 * 1024)
        let full = try multirun(["submit", "--commands", "jobs.txt", "--queue", "q"], in: project)
        #expect(full.status == 2)
        #expect(full.stderr.contains("No space left on device; nothing was queued"), "\(full.stderr)")
        #expect(try wholeLines(queue + "/journal.jsonl") == 0)
        let status = try multirun(["status", "--json", "--queue", "q"], in: project)
        #expect(status.stdout.contains("\"queued\":0"), "\(status.stdout.prefix(200))")

        // A torn tail from some earlier failure is cut back before the next append.
        try FileManager.default.removeItem(atPath: queue + "/filler")
        let journal = open(queue + "/journal.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        #expect(journal >= 0)
        let torn = Array("{\"e\":\"submitted\",\"id\":\"99".utf8)
        #expect(torn.withUnsafeBytes { write(journal, $0.baseAddress, $0.count) } == torn.count)
        close(journal)
        let again = try multirun(["submit", "--commands", "jobs.txt", "--queue", "q"], in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try wholeLines(queue + "/journal.jsonl") == 400)
        let counted = try multirun(["status", "--json", "--queue", "q"], in: project)
        #expect(counted.stdout.contains("\"queued\":400"), "\(counted.stdout.prefix(200))")
    }

    @Test func aOneShotRunOnAFullResultsDiskSaysSoAndKeepsWholeLines() throws {
        let project = try Project()
        let results = project.path("results")
        try smallDisk(results, kilobytes: 256)
        defer { umount2(results, Int32(MNT_DETACH)) }
        try project.write("jobs.txt", (1...30).map { "true \($0)" }.joined(separator: "\n") + "\n")
        try fill(results, leaving: 16 * 1024)
        let run = try multirun(["--commands", "jobs.txt", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(run.status != 0)
        #expect(run.stderr.contains("could not be written") || run.stderr.contains("No space left on device"), "\(run.stdout)\(run.stderr)")
        for folder in project.runFolders() { _ = try wholeLines(results + "/runs/\(folder)/tasks.jsonl") }
    }
}
