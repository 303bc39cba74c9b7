import Foundation
import Glibc
import Testing

/// A command killed by a signal is recorded as killed by that signal, through runone and
/// through `--commands` shell lines; a shell's 128+N is named as the shell's report.
@Suite(.serialized)
struct ShellSignalTests {
    func json(_ project: Project, _ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: project.path(path)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aConfigCommandKilledBySIGKILLIsRecordedAsKilledThroughRunone() throws {
        let project = try Project()
        try project.write("configs/k/kill.yaml", "command: \"python3 -c 'import os; os.kill(os.getpid(), 9)'\"\n")
        let result = try multirun(["-c", "kill", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("The process was killed by signal 9 (SIGKILL) (log: "), "\(result.stdout)")
        let row = try #require(try project.latestSummary().first)
        #expect(row["signal"] as? Int == 9)
        #expect(row["exit_code"] is NSNull)
        #expect(row["status"] as? String == "failed")
        #expect(row["error"] is NSNull)
        let metadata = try json(project, "results/k/kill/metadata.json")
        #expect(metadata["status"] as? String == "killed")
        #expect(metadata["signal"] as? Int == 9)
        #expect(metadata["exit_code"] is NSNull)
    }

    @Test func runoneDiesOfTheSignalThatKilledItsCommand() throws {
        let project = try Project()
        try project.write("configs/k/segv.yaml", "command: [python3, -c, 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)']\n")
        let result = try Launched(Binaries.runone, ["-c", "configs/k/segv.yaml"], in: project)
        _ = result.finish()
        #expect(result.process.terminationReason == .uncaughtSignal)
        #expect(result.process.terminationStatus == SIGTERM)
        let metadata = try json(project, "results/k/segv/metadata.json")
        #expect(metadata["status"] as? String == "killed")
        #expect(metadata["signal"] as? Int == Int(SIGTERM))
    }

    @Test func aTERMToRunoneItselfIsStillAnInterruption() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        try project.write("configs/k/wait.yaml", "command: 'echo up > \"$EVENTS\" && exec sleep 60'\n")
        let running = try Launched(Binaries.runone, ["-c", "configs/k/wait.yaml"], in: project, environment: ["EVENTS": events.path])
        #expect(try events.nextLine() == "up")
        running.signal(SIGTERM)
        let result = running.finish()
        #expect(running.process.terminationReason == .exit)
        #expect(result.status == 143)
        let metadata = try json(project, "results/k/wait/metadata.json")
        #expect(metadata["status"] as? String == "interrupted")
        #expect(metadata["signal"] as? Int == Int(SIGTERM))
    }

    @Test func commandsLinesShowTheRealSignalOrTheShellsReport() throws {
        let project = try Project()
        let lines = [
            "python3 -c 'import os; os.kill(os.getpid(), 9)'",
            "python3 -c 'import sys; sys.exit(137)'",
            "python3 -c 'import os; os.kill(os.getpid(), 9)'; exit $?",
            "sh -c 'kill -9 $$' ; exit $?",
        ]
        try project.write("cmds.txt", lines.joined(separator: "\n") + "\n")
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(result.status == 1)
        let rows = try project.latestSummary()
        try #require(rows.count == 4)
        // Each row names the line as written, never with the `exec` multirun added.
        #expect(rows.map { $0["command"] as? String } == lines)

        #expect(rows[0]["signal"] as? Int == 9)
        #expect(rows[0]["exit_code"] is NSNull)
        #expect(rows[0]["error"] is NSNull)

        #expect(rows[1]["exit_code"] as? Int == 137)
        #expect(rows[1]["signal"] is NSNull)
        #expect(rows[1]["error"] is NSNull)

        for row in rows[2...] {
            #expect(row["exit_code"] as? Int == 137)
            #expect(row["signal"] is NSNull)
            #expect(row["status"] as? String == "failed")
            #expect(row["error"] as? String == "the shell reports signal 9 (SIGKILL)")
        }

        let out = result.stdout.split(separator: "\n").map(String.init)
        func line(for command: String) -> String? { out.first { $0.hasPrefix("The process") && $0.contains(": \(command) [") } }
        #expect(line(for: lines[0])?.hasPrefix("The process was killed by signal 9 (SIGKILL) (log: ") == true, "\(out)")
        #expect(line(for: lines[1])?.hasPrefix("The process failed with exit code 137 (log: ") == true, "\(out)")
        for command in lines[2...] {
            #expect(line(for: command)?.hasPrefix("The process failed with exit code 137 (the shell reports signal 9, SIGKILL) (log: ") == true, "\(out)")
        }
        #expect(!result.stdout.contains("exec "))
        // The CSV carries the note in its error column.
        let run = try #require(project.runFolders().last)
        let csv = try project.read("results/runs/\(run)/summary.csv")
        #expect(csv.contains(",137,,failed,") && csv.contains(",the shell reports signal 9 (SIGKILL)\n"))
    }

    /// A comment on the first line of a multi-line string command does not make it one
    /// simple command: every line runs.
    @Test func aCommentDoesNotHideTheLinesAfterIt() throws {
        let project = try Project()
        try project.write("configs/m/a.yaml", "command: \"echo a > {output}/a.txt # note\\necho b > {output}/b.txt\"\n")
        let result = try multirun(["-c", "m/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("results/m/a/a.txt") == "a\n")
        #expect(try project.read("results/m/a/b.txt") == "b\n")
    }

    /// A placeholder in a here-document's text would be expanded by the shell: refused
    /// before anything starts. `${HOME}` (no such placeholder) is the shell's.
    @Test func placeholdersInAHereDocumentAreRefusedAndShellExpansionsAreLeftAlone() throws {
        let project = try Project()
        let canary = project.path("PWNED")
        try project.write("configs/h/doc.yaml", "command: \"cat <<EOF > {output}/o.txt\\n{v}\\nEOF\"\nparams: {v: '$(touch \(canary))'}\n")
        let refused = try multirun(["-c", "h/doc", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("multirun: configs/h/doc.yaml:1:1: key 'command': placeholder {v} in command comes after a here-document (<<)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: canary))
        try project.write("configs/h/home.yaml", "command: 'echo \"${HOME}|{v}\" > {output}/o.txt'\nparams: {v: x}\n")
        let home = try multirun(["-c", "h/home", "-gpu", "false", "-d", "1", "-check", "false"], in: project, environment: ["HOME": "/home/someone"])
        #expect(home.status == 0, "\(home.stderr)")
        #expect(try project.read("results/h/home/o.txt") == "/home/someone|x\n")
    }
}
