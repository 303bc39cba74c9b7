import Foundation
import Glibc
import Testing

/// Damaged queue files (issue 14, item 3): one line naming the file and line, a non-zero
/// exit, never a crash; the daemon refuses to start (and so cannot crash-loop); a torn
/// last line is dropped as before.
@Suite(.serialized)
struct QueueDamageTests {
    static let t = 1_796_339_428_038_298_333

    static func submitted(_ id: String) -> String {
        #"{"e":"submitted","id":"\#(id)","key":"k\#(id)","label":"task \#(id)","command":"true","argv":["/bin/true"],"cwd":"/","config":null,"output":null,"t":\#(t)}"#
    }
    static func started(_ id: String, attempt: String = "1", pid: String = "0", time: String = "\(t)") -> String {
        #"{"e":"started","id":"\#(id)","attempt":\#(attempt),"device":"cpu","slot":0,"pid":\#(pid),"t":\#(time)}"#
    }
    static func ended(_ id: String, exitCode: String = "0", signal: String = "null", status: String = "succeeded") -> String {
        #"{"e":"ended","id":"\#(id)","attempt":1,"exit_code":\#(exitCode),"signal":\#(signal),"status":"\#(status)","t":\#(t)}"#
    }

    /// A project whose queue folder holds `journal` (and `files`), written by hand.
    func queue(_ journal: String, files: [String: String] = [:]) throws -> (Project, String) {
        let project = try Project()
        let queue = project.path(".multirun")
        #expect(mkdir(queue, 0o700) == 0)
        try project.write(".multirun/journal.jsonl", journal)
        for (name, text) in files { try project.write(".multirun/" + name, text) }
        return (project, queue)
    }

    func damagedJournal(line: Int, _ problem: String, _ journal: String) throws {
        let (project, queue) = try queue(journal)
        let message = "multirun: queue journal \(queue)/journal.jsonl:\(line): \(problem); the queue file is damaged: move it aside or delete line \(line), then start again (see README 'Repairing a queue')\n"
        for command in [["status"], ["status", "--json"], ["cancel", "--all"], ["wait"]] {
            let result = try multirun(command + ["--queue", queue], in: project)
            #expect(result.status == 2, "\(command)")
            #expect(result.stderr == message, "\(command)")
            #expect(result.stdout == "", "\(command)")
        }
        // Twice: a daemon that a supervisor restarts refuses the same way each time, and
        // starts nothing.
        for _ in 0..<2 {
            let result = try multirun(["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--queue", queue], in: project)
            #expect(result.status == 2)
            #expect(result.stderr == message)
            #expect(try project.read(".multirun/journal.jsonl") == journal)
        }
        #expect(try project.read(".multirun/scheduler.log").contains("Scheduler stopped: queue journal \(queue)/journal.jsonl:\(line): \(problem)"))
    }

    @Test func pidOutOfRange() throws {
        try damagedJournal(line: 2, "field 'pid' out of range (4294967296)",
                           [Self.submitted("1"), Self.started("1", pid: "4294967296"), Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    @Test func signalOutOfRange() throws {
        try damagedJournal(line: 3, "field 'signal' out of range (2147483648)",
                           [Self.submitted("1"), Self.started("1"), Self.ended("1", exitCode: "null", signal: "2147483648", status: "failed"),
                            Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    @Test func exitCodeOutOfRange() throws {
        try damagedJournal(line: 3, "field 'exit_code' out of range (2147483648)",
                           [Self.submitted("1"), Self.started("1"), Self.ended("1", exitCode: "2147483648", status: "failed"),
                            Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    @Test func attemptOutOfRange() throws {
        try damagedJournal(line: 2, "field 'attempt' out of range (9223372036854775807)",
                           [Self.submitted("1"), Self.started("1", attempt: "9223372036854775807"), Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    @Test func timeOutOfRange() throws {
        try damagedJournal(line: 2, "field 't' out of range (-9223372036854775808)",
                           [Self.submitted("1"), Self.started("1", time: "-9223372036854775808"), Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    @Test func damagedMiddleLine() throws {
        try damagedJournal(line: 2, "not valid JSON: expected a field name, found the end of the line at column 25",
                           [Self.submitted("1"), #"{"e":"started","id":"1","#, Self.submitted("2")].joined(separator: "\n") + "\n")
    }

    /// A crash mid-append leaves a last line without its line break: dropped, as before.
    @Test func tornLastLineIsDropped() throws {
        let (project, queue) = try queue([Self.submitted("1"), Self.started("1"), Self.ended("1"), Self.submitted("2")].joined(separator: "\n")
                                         + "\n" + #"{"e":"started","id":"2","att"#)
        let status = try multirun(["status", "--queue", queue], in: project)
        #expect(status.status == 0 && status.stderr == "")
        #expect(status.stdout.contains("1 queued, 0 running, 1 succeeded"))
        let daemon = try multirun(["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--queue", queue], in: project)
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(try multirun(["status", "--queue", queue], in: project).stdout.contains("0 queued, 0 running, 2 succeeded"))
    }

    /// A damaged next-id is rebuilt from the journal (every id handed out is there), with
    /// a warning; status and the daemon do not read it.
    @Test func nextIDOutOfRangeIsRebuiltFromTheJournal() throws {
        let (project, queue) = try queue([Self.submitted("1"), Self.submitted("2")].joined(separator: "\n") + "\n",
                                         files: ["next-id": "9223372036854775807\n"])
        let status = try multirun(["status", "--queue", queue], in: project)
        #expect(status.status == 0 && status.stderr == "")
        try project.write("cmds.txt", "true\n")
        let submit = try multirun(["submit", "--no-env", "--commands", "cmds.txt", "--queue", queue], in: project)
        #expect(submit.status == 0)
        #expect(submit.stdout.contains("Queued 3 true"))
        #expect(submit.stderr == "multirun: next-id file \(queue)/next-id: out of range (9223372036854775807); ids are 1 to 999999999999999; it is damaged, so the next id comes from the journal (3) and the file is rewritten\n")
        #expect(try project.read(".multirun/next-id") == "4\n")
        let daemon = try multirun(["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--queue", queue], in: project)
        #expect(daemon.status == 0, "\(daemon.stderr)")
    }

    /// An exit record out of range stops the daemon (naming the file) before it starts
    /// anything; status, which does not read exit records, still works.
    @Test func exitRecordOutOfRange() throws {
        let journal = [Self.submitted("1"), Self.started("1"), Self.submitted("2")].joined(separator: "\n") + "\n"
        let (project, queue) = try queue(journal, files: [
            "exits/1-1.json": #"{"exit_code":2147483648,"signal":null,"start":1,"end":2,"error":null}"# + "\n",
        ])
        #expect(try multirun(["status", "--queue", queue], in: project).status == 0)
        let message = "multirun: exit record \(queue)/exits/1-1.json: field 'exit_code' out of range (2147483648); the queue file is damaged: delete it and the attempt counts as interrupted and runs again (see README 'Repairing a queue')\n"
        for _ in 0..<2 {
            let result = try multirun(["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--queue", queue], in: project)
            #expect(result.status == 2)
            #expect(result.stderr == message)
            #expect(try project.read(".multirun/journal.jsonl") == journal)
        }
        // The documented repair: delete it; the attempt runs again.
        try FileManager.default.removeItem(atPath: queue + "/exits/1-1.json")
        let daemon = try multirun(["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--queue", queue], in: project)
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(try multirun(["status", "--queue", queue], in: project).stdout.contains("0 queued, 0 running, 2 succeeded"))
    }
}
