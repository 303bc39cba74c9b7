import Foundation
import Glibc
import Scheduler
import Testing

/// Issue 14's minimised inputs, run as users run them: each gives exactly one line, the
/// right exit code, and starts nothing; none crashes or hangs.
@Suite(.serialized)
struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        /// The line after `runone: ` / `multirun: `, with `FILE` for the config's path.
        let message: String
        var testDescription: String { name }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let cases: [Case] = [
        Case(name: "NUL after content", bytes: bytes("command: [echo, hi]\0\n"),
             message: "FILE:1:20: NUL byte in the file; remove it (the file must be text, saved as UTF-8)"),
        Case(name: "a single NUL", bytes: [0],
             message: "FILE:1:1: NUL byte: the file looks like UTF-16 or UTF-32 without a byte order mark; save it as UTF-8"),
        Case(name: "UTF-16 without a byte order mark", bytes: bytes("c\0o\0m\0m\0a\0n\0d\0:\0"),
             message: "FILE:1:2: NUL byte: the file looks like UTF-16 or UTF-32 without a byte order mark; save it as UTF-8"),
        Case(name: "NUL in a config that asks for resources", bytes: bytes("command: [echo, hi]\nresources: {gpus: 1}\n\0"),
             message: "FILE:3:1: NUL byte in the file; remove it (the file must be text, saved as UTF-8)"),
        Case(name: "invalid UTF-8", bytes: bytes("command: [echo, \"") + [0xFF] + bytes("\"]\n"),
             message: "FILE:1:18: invalid UTF-8 (byte 0xFF); save the file as UTF-8"),
        Case(name: "UTF-32 beyond U+10FFFF", bytes: [0xFF, 0xFE, 0, 0, 0x61, 0, 0, 0, 0, 0, 0x11, 0],
             message: "FILE:1:2: invalid UTF-32 (a broken surrogate pair or a value beyond U+10FFFF); save the file as UTF-8"),
        Case(name: "a control character", bytes: bytes("command: [echo, a\u{07}]\n"),
             message: "FILE:1:18: control character U+0007 in the file; remove it, or write it as an escape inside a double-quoted string"),
        Case(name: "flow nesting 6,600 deep", bytes: bytes("command: " + String(repeating: "[", count: 6600) + String(repeating: "]", count: 6600) + "\n"),
             message: "FILE:1:266: lists and mappings nested more than 256 levels deep; flatten the config"),
        Case(name: "block nesting 300 deep", bytes: bytes((0..<300).map { String(repeating: " ", count: $0) + "k:\n" }.joined()),
             message: "FILE:257:257: lists and mappings nested more than 256 levels deep; flatten the config"),
        Case(name: "base-60 integer of 2^63", bytes: bytes("x: 153722867280912930:8\ncommand: [echo]\n"),
             message: "FILE:1:4: integer '153722867280912930:8' is outside the 64-bit range (-9223372036854775808 to 9223372036854775807); quote it to keep it as text"),
        Case(name: "a megabyte-long unknown key", bytes: bytes(String(repeating: "a", count: 1_000_000) + ": 1\ncommand: [echo]\n"),
             message: "FILE:1:1: a key longer than 1,024 characters (YAML's limit for a key written before ':'); shorten it"),
        Case(name: "lone CR line breaks", bytes: bytes("model_params:\r  name: kuramoto\r  nodes: x\r"),
             message: "FILE:3:3: key 'model_params.nodes': must be a whole number, found a string"),
        Case(name: "NEL, a YAML line break", bytes: bytes("command: [echo, k\u{85}x]\n"),
             message: "FILE:1:18: line break character U+0085 in the file; use a plain line break, or write it as an escape (\\N, \\L, \\P) inside a double-quoted string"),
        Case(name: "TR/dt beyond 10^8 steps", bytes: bytes("model_params: {name: kuramoto, TR: 1.0e+300, dt: 1.0e-300}\n"),
             message: "FILE:1:32: key 'model_params.TR': is more than 100000000 integration steps of dt (1e-300); raise dt or lower TR"),
    ]

    /// runone, a one-shot multirun and submit: the same line, exit 2, nothing started.
    @Test(arguments: cases)
    func refusedEverywhere(_ item: Case) throws {
        let project = try Project()
        try FileManager.default.createDirectory(atPath: project.path("configs"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: project.path("configs/bad.yaml"), contents: Data(item.bytes)))
        let line = item.message.replacingOccurrences(of: "FILE", with: "configs/bad.yaml")

        let runone = try Launched(Binaries.runone, ["-c", "configs/bad.yaml"], in: project).finish(within: 60)
        #expect(runone.status == 2)
        #expect(runone.stderr == "runone: \(line)\n")

        let run = try Launched(Binaries.multirun, ["-c", "bad", "-gpu", "false", "-d", "1", "-check", "false"], in: project).finish(within: 60)
        #expect(run.status == 2)
        #expect(run.stderr == "multirun: \(line)\n")
        #expect(!run.stdout.contains("Start the process"))

        let submit = try Launched(Binaries.multirun, ["submit", "-c", "bad", "--queue", "q"], in: project).finish(within: 60)
        #expect(submit.status == 2)
        #expect(submit.stderr == "multirun: \(line)\n")
        #expect(!project.exists("results/bad"))
    }

    /// A UTF-16 file with its byte order mark is read, as PyYAML reads it.
    @Test func utf16WithByteOrderMarkRuns() throws {
        let project = try Project()
        try FileManager.default.createDirectory(atPath: project.path("configs"), withIntermediateDirectories: true)
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in "command: [echo, héllo]\n".utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(FileManager.default.createFile(atPath: project.path("configs/wide.yaml"), contents: Data(bytes)))
        let result = try Launched(Binaries.runone, ["-c", "configs/wide.yaml"], in: project).finish(within: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("héllo"))
    }

    /// `params` 66 maps deep (a precondition trapped at 64) fills its placeholder.
    @Test func deepParamsRun() throws {
        let project = try Project()
        var text = "command: [echo, '{k0}']\nparams:\n"
        for level in 0..<66 { text += String(repeating: "  ", count: level + 1) + "k\(level):\n" }
        text += String(repeating: "  ", count: 67) + "v: 1\n"
        try project.write("configs/deep.yaml", text)
        let result = try Launched(Binaries.runone, ["-c", "configs/deep.yaml"], in: project).finish(within: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("{\"k1\":{\"k2\""))
    }

    /// A built-in model that would not fit in this machine's memory is refused with both figures.
    @Test func modelBeyondMemoryIsRefused() throws {
        let project = try Project()
        try project.write("configs/big.yaml", "model_params: {name: kuramoto, nodes: 100000, density: 1.0}\n")
        var parameters = KuramotoParameters()
        parameters.nodes = 100_000
        parameters.density = 1.0
        let budget = try #require(HostMemory.budget())
        guard parameters.peakBytes > budget.bytes else {
            print("skipped: this machine allows \(budget.bytes) bytes, more than the largest model needs")
            return
        }
        let line = "configs/big.yaml:1:1: key 'model_params': kuramoto with 100000 nodes at density 1.0 and 1000 timepoints needs about "
            + "\(MemoryBudget.describe(parameters.peakBytes)) of memory at its peak, more than the \(MemoryBudget.describe(budget.bytes)) "
            + "this machine allows a task (\(budget.source)); make it smaller"
        let runone = try Launched(Binaries.runone, ["-c", "configs/big.yaml"], in: project).finish(within: 60)
        #expect(runone.status == 2)
        #expect(runone.stderr == "runone: \(line)\n")
        let run = try Launched(Binaries.multirun, ["-c", "big", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(run.status == 2)
        #expect(run.stderr == "multirun: \(line)\n")
    }

    struct ArgumentCase: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let argumentCases: [ArgumentCase] = [
        ArgumentCase(arguments: ["-c", "t", "--timeout", "1e308", "-check", "false"],
                     message: "--timeout: '1e308' is too long; give at most 1000000000 seconds (about 31 years)"),
        ArgumentCase(arguments: ["-c", "t", "--grace", "1e308", "-check", "false"],
                     message: "--grace: '1e308' is too long; give at most 1000000000 seconds (about 31 years)"),
        ArgumentCase(arguments: ["-c", "t", "-gpu", "false", "-d", "100000000000", "-check", "false"],
                     message: "-d: '100000000000' (position 0) is more than 4096 tasks at once on one device; give a count up to 4096"),
        ArgumentCase(arguments: ["-c", String(repeating: "(", count: 20_000), "-gpu", "false", "-check", "false"],
                     message: "-c: the pattern nests groups more than 256 deep; write a flatter pattern"),
        ArgumentCase(arguments: ["-c", "t", "--timeout", "1e-320", "-check", "false"],
                     message: "--timeout: '1e-320' is less than a millisecond; give at least 0.001 seconds"),
        ArgumentCase(arguments: ["-c", "t", "\u{202E}txt.exe"],
                     message: "unexpected argument '\\u{202E}txt.exe'; to select configs by it, write -c '\\u{202E}txt.exe'"),
        ArgumentCase(arguments: ["x\ny\u{1B}[31m"],
                     message: "unexpected argument 'x\\ny\\x1B[31m'; to select configs by it, write -c 'x\\ny\\x1B[31m'"),
    ]

    @Test(arguments: argumentCases)
    func argumentsRefused(_ item: ArgumentCase) throws {
        let project = try Project()
        try project.write("configs/t.yaml", "command: [echo]\n")
        let result = try Launched(Binaries.multirun, item.arguments, in: project).finish(within: 60)
        #expect(result.status == 2)
        #expect(result.stderr == "multirun: \(item.message)\n")
    }

    /// A config whose name holds a newline: its problem is still one line.
    @Test func fileNamesAreEscaped() throws {
        let project = try Project()
        try project.write("configs/a\nb.yaml", "command: [echo]\nbogus: 1\n")
        let result = try Launched(Binaries.multirun, ["-c", "a", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(result.status == 2)
        #expect(result.stderr == "multirun: configs/a\\nb.yaml:2:1: key 'bogus': unknown key; a config has command, params, model_params, description, resources, priority, after (or pass --runner for a runner of your own)\n")
    }

    /// A commands line /bin/sh cannot read, or one longer than any argument can be, is
    /// refused before anything starts.
    @Test func commandsLinesThatCannotRunAreRefused() throws {
        let project = try Project()
        try project.write("quote.txt", "echo ok\necho \"unbalanced\necho 'it''s' \"fine\" # it's a comment\n")
        let quote = try Launched(Binaries.multirun, ["--commands", "quote.txt", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(quote.status == 2)
        #expect(quote.stderr == "multirun: --commands quote.txt line 2: /bin/sh cannot read it (1: Syntax error: Unterminated quoted string); fix its quoting\n")
        #expect(!quote.stdout.contains("Start the process"))
        // MAX_ARG_STRLEN counts the NUL: 131,071 bytes in one argument run, 131,072 cannot.
        try project.write("long.txt", "echo " + String(repeating: "a", count: 131_072) + "\n")
        let long = try Launched(Binaries.multirun, ["--commands", "long.txt", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(long.status == 2)
        #expect(long.stderr == "multirun: --commands long.txt line 1 has an argument of 131072 bytes; Linux passes at most 131071 bytes in one (MAX_ARG_STRLEN), so it cannot run; put the long part in a file\n")
        try project.write("fits.txt", "true " + String(repeating: "a", count: 131_071) + "\n" + "true " + String(repeating: "ab ", count: 50_000) + "\n")
        // Its log lines are longer than a pipe holds: they go to a file.
        let fits = try Launched("/bin/sh", ["-c", "exec \"$0\" --commands fits.txt -gpu false -check false >out.txt", Binaries.multirun], in: project).finish(within: 60)
        #expect(fits.status == 0, "\(fits.stderr)")
    }

    /// A line of shell builtins alone (`exec`, `cd`, `:`) runs under /bin/sh, not "not found".
    @Test func builtinLinesRunUnderTheShell() throws {
        let project = try Project()
        try project.write("b.txt", "exec touch made-by-exec\ncd /tmp\n:\n")
        let run = try Launched(Binaries.multirun, ["--commands", "b.txt", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("3 succeeded"))
        #expect(project.exists("made-by-exec"))
    }

    /// A link where the queue keeps its logs, environments or cache is refused: they would
    /// land (with the submitter's environment) wherever it points.
    @Test(arguments: ["logs", "env", "cache", "exits", "run"])
    func queueSubfolderLinksAreRefused(_ sub: String) throws {
        let project = try Project()
        try project.write("f.txt", "true\n")
        try FileManager.default.createDirectory(atPath: project.path("victim"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: project.path("q"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: project.path("q/" + sub), withDestinationPath: project.path("victim"))
        let submit = try Launched(Binaries.multirun, ["submit", "--commands", "f.txt", "--queue", "q"], in: project).finish(within: 60)
        #expect(submit.status == 2)
        #expect(submit.stderr == "multirun: queue folder 'q' holds a symbolic link at \(sub)/, and multirun keeps its files only in real folders; remove it (rm q/\(sub)) and run again\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path("victim")).isEmpty)
    }

    /// A stop while multirun still reads its input (here: --commands from a pipe that never
    /// ends) ends it at once, with nothing started.
    @Test func aStopWhilePlanningEndsAtOnce() throws {
        let project = try Project()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.multirun)
        process.arguments = ["--commands", "-", "-gpu", "false", "-check", "false"]
        process.currentDirectoryURL = URL(fileURLWithPath: project.root)
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("true\n".utf8))
        // Wait for the event: multirun blocked in read(2) on its standard input.
        var reading = false
        for _ in 0..<100_000 where !reading {
            // /proc/PID/syscall: "0 0xFD ..." while in read(2) (x86_64 and arm64 number it 0 and 63).
            let fields = ((try? String(contentsOfFile: "/proc/\(process.processIdentifier)/syscall", encoding: .utf8)) ?? "").split(separator: " ")
            if fields.count > 1, fields[0] == "0" || fields[0] == "63", let fd = Int(fields[1].dropFirst(2), radix: 16),
               let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.processIdentifier)/fd/\(fd)") {
                reading = target.hasPrefix("pipe:")
            }
            if !reading { sched_yield() }
        }
        #expect(reading, "multirun never waited on its standard input")
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        kill(pid, SIGTERM)
        process.waitUntilExit()
        watchdog.cancel()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        #expect(!project.exists("results"))
        try? input.fileHandleForWriting.close()
    }

    /// An argument that is not UTF-8 is refused, not silently changed to another path.
    @Test func argumentsThatAreNotUTF8AreRefused() throws {
        let project = try Project()
        try project.write("configs/t.yaml", "command: [echo]\n")
        // Through sh's printf: Foundation's Process would not pass the raw byte.
        let run = try Launched("/bin/sh", ["-c", "exec \"$0\" -c t -gpu false -check false --results \"$(printf 'r\\233x')\"", Binaries.multirun], in: project).finish(within: 60)
        #expect(run.status == 2)
        #expect(run.stderr == "multirun: argument 8 ('r\u{FFFD}x') is not valid UTF-8 (byte 2 is 0x9B); name files in UTF-8, or rename this one\n")
        #expect(!project.exists("r\u{FFFD}x"))
    }

    /// A commands file with a NUL byte (which no argv can hold) or invalid UTF-8.
    @Test func commandsFilesWithBinaryAreRefused() throws {
        let project = try Project()
        #expect(FileManager.default.createFile(atPath: project.path("nul.txt"), contents: Data(Self.bytes("echo ok\necho a\0b\n"))))
        #expect(FileManager.default.createFile(atPath: project.path("bad.txt"), contents: Data(Self.bytes("echo ") + [0xC3, 0x28] + Self.bytes("\n"))))
        let nul = try Launched(Binaries.multirun, ["--commands", "nul.txt", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(nul.status == 2)
        #expect(nul.stderr == "multirun: --commands nul.txt:2:7: NUL byte in the file; remove it (the file must be text, saved as UTF-8)\n")
        #expect(!nul.stdout.contains("Start the process"))
        let bad = try Launched(Binaries.multirun, ["--commands", "bad.txt", "-gpu", "false", "-check", "false"], in: project).finish(within: 60)
        #expect(bad.status == 2)
        #expect(bad.stderr == "multirun: --commands bad.txt:1:6: invalid UTF-8 (byte 0xC3); save the file as UTF-8\n")
    }
}

extension Launched {
    /// `finish()`, but a process still running after `seconds` is killed and the test fails:
    /// a hang is a finding, not a stalled suite.
    func finish(within seconds: Double) throws -> (status: Int32, stdout: String, stderr: String) {
        let pid = self.pid
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let result = finish()
        watchdog.cancel()
        #expect(!(process.terminationReason == .uncaughtSignal && result.status == SIGKILL), "still running after \(seconds) s: killed")
        return result
    }
}
