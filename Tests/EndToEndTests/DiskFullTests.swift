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

    /// A disk that fills at exact byte offsets of the journal and of the key index (the
    /// test build's MULTIRUN_TEST_FAIL_APPEND): a failed submit queues nothing (journal) or
    /// queues everything and says its keys are missing (index); after the next scheduler
    /// start, submitting again adds nothing twice, and every line runs exactly once.
    @Test(arguments: ["journal.jsonl:1", "journal.jsonl:300", "journal.jsonl:5000", "keys.idx:1", "keys.idx:700"])
    func aDiskFullAtExactOffsetsLosesAndDoublesNothing(fault: String) throws {
        let project = try Project()
        try project.write("jobs.txt", (1...30).map { "true \($0)" }.joined(separator: "\n") + "\n")
        let failed = try multirun(["submit", "--commands", "jobs.txt"], in: project, environment: ["MULTIRUN_TEST_FAIL_APPEND": fault])
        let journalFault = fault.hasPrefix("journal")
        #expect(failed.status == (journalFault ? 2 : 1), "\(failed.stderr)")
        #expect(failed.stderr.contains(journalFault ? "No space left on device; nothing was queued" : "keys.idx could not record them"), "\(failed.stderr)")
        let status = try multirun(["status", "--json"], in: project)
        #expect(status.stdout.contains(journalFault ? "\"queued\":0," : "\"queued\":30,"), "\(status.stdout.prefix(200))")
        if journalFault { #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0) }
        // The scheduler rebuilds the key index from the journal and runs everything.
        let run = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "2", "--exit-when-idle"], in: project).finish()
        #expect(run.status == 0, "\(run.stderr)")
        let again = try multirun(["submit", "--commands", "jobs.txt"], in: project)
        #expect(again.stdout.contains("Submitted 0 task(s), 30 not queued"), "\(again.stdout.suffix(200))")
        let journal = try project.read(".multirun/journal.jsonl")
        #expect(journal.components(separatedBy: "\"e\":\"submitted\"").count - 1 == 30)
        #expect(try wholeLines(project.path(".multirun/journal.jsonl")) > 30)
        let counted = try multirun(["status", "--json"], in: project)
        #expect(counted.stdout.contains("\"succeeded\":30,"), "\(counted.stdout.prefix(200))")
    }
}
