import Foundation
import Glibc
import Testing

/// Help pages, suggestions, flags that do not apply, completion scripts, the man page and
/// the version, through the built multirun and runone.
struct CommandLinePagesTests {
    static let subcommands = ["run", "daemon", "submit", "status", "cancel", "wait", "drain", "devices"]
    static let packageRoot = String(#filePath.prefix(upTo: #filePath.range(of: "/Tests/")!.lowerBound))

    /// A project whose one config's runner leaves `started` behind if anything runs.
    func project() throws -> Project {
        let project = try Project()
        try project.write("configs/t-1.yaml", "n: 1\n")
        try project.write("task.sh", "#!/bin/sh\ntouch started\n", executable: true)
        return project
    }

    @Test(arguments: subcommands) func subcommandPage(_ name: String) throws {
        let project = try project()
        let viaHelp = try multirun(["help", name], in: project)
        let viaFlag = try multirun([name, "--help"], in: project)
        #expect(viaHelp.status == 0 && viaFlag.status == 0, "\(viaHelp.stderr)\(viaFlag.stderr)")
        #expect(viaHelp.stdout == viaFlag.stdout)
        #expect(viaHelp.stdout.hasPrefix("OVERVIEW: "))
        #expect(viaHelp.stdout.contains(name == "run" ? "USAGE: multirun [run] " : "USAGE: multirun \(name)"))
        #expect(viaHelp.stdout.contains("\nOPTIONS:\n"))
        #expect(viaHelp.stdout.contains("\nEXAMPLES:\n"))
        // Its own options only: the overview's queue options are not on the run page.
        if name == "status" {
            #expect(viaHelp.stdout.contains("--json"))
            #expect(!viaHelp.stdout.contains("--runner"))
        }
        if name == "run" { #expect(!viaHelp.stdout.contains("--exit-when-idle")) }
        #expect(!project.exists(".multirun"))
    }

    @Test func overviewListsSubcommands() throws {
        let project = try project()
        let help = try multirun(["help"], in: project)
        let flag = try multirun(["--help"], in: project)
        let short = try multirun(["-h"], in: project)
        #expect(help.status == 0)
        #expect(help.stdout == flag.stdout && flag.stdout == short.stdout)
        #expect(help.stdout.contains("USAGE: multirun -c REGEX"))
        #expect(help.stdout.contains("SUBCOMMANDS:"))
        for name in Self.subcommands { #expect(help.stdout.contains("\n  \(name) "), "\(name)") }
        #expect(help.stdout.contains("See 'multirun help SUBCOMMAND'"))
    }

    struct Case: Sendable, CustomStringConvertible {
        let arguments: [String]
        let message: String
        var description: String { arguments.joined(separator: " ") }
    }

    static let refused: [Case] = [
        // Typos of subcommands and options: the nearest name.
        Case(arguments: ["statsu"], message: "multirun: unknown subcommand 'statsu'; did you mean 'status'? (see 'multirun help')"),
        Case(arguments: ["sbumit", "-c", "t-"], message: "multirun: unknown subcommand 'sbumit'; did you mean 'submit'? (see 'multirun help')"),
        Case(arguments: ["help", "statsu"], message: "multirun: no subcommand 'statsu'; did you mean 'status'? the subcommands are run, daemon, submit, status, cancel, wait, drain, devices, log, restart, sweep, help"),
        Case(arguments: ["status", "--jsn"], message: "multirun: unknown option '--jsn' for 'multirun status'; did you mean '--json'? (see 'multirun help status')"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "--timout", "3"], message: "multirun: unknown option '--timout' for a one-shot run (multirun -c ...); did you mean '--timeout'? (see 'multirun help run')"),
        // A word that may be a config pattern keeps the -c hint.
        Case(arguments: ["t-1"], message: "multirun: unexpected argument 't-1'; to select configs by it, write -c 't-1'"),
        // Flags that do not apply to the subcommand.
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--json"],
             message: "multirun: --json does not apply to a one-shot run (multirun -c ...); it belongs to 'status', 'devices' (see 'multirun help run')"),
        Case(arguments: ["submit", "-c", "t-", "--runner", "./task.sh", "-d", "2"],
             message: "multirun: -d does not apply to 'multirun submit'; it belongs to one-shot runs, 'daemon', 'devices' (see 'multirun help submit')"),
        Case(arguments: ["submit", "-c", "t-", "--runner", "./task.sh", "-check", "false"], message: "multirun: -check does not apply to 'multirun submit'"),
        Case(arguments: ["status", "--runner", "x"], message: "multirun: --runner does not apply to 'multirun status'"),
        Case(arguments: ["drain", "--all"], message: "multirun: --all does not apply to 'multirun drain'; it belongs to 'cancel'"),
        Case(arguments: ["wait", "--grace", "1"], message: "multirun: --grace does not apply to 'multirun wait'"),
        Case(arguments: ["daemon", "-c", "t-"], message: "multirun: -c does not apply to 'multirun daemon'"),
        Case(arguments: ["daemon", "--no-env"], message: "multirun: --no-env does not apply to 'multirun daemon'; it belongs to 'submit'"),
        Case(arguments: ["status", "-V"], message: "multirun: -V does not apply to 'multirun status'; the version is multirun's own: multirun --version"),
        Case(arguments: ["status", "extra"], message: "multirun: 'multirun status' takes no argument 'extra'; see 'multirun help status'"),
        // GPU-only options in CPU mode, and a value option given twice.
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--cvd", "uuid"],
             message: "multirun: --cvd chooses what GPU tasks get in CUDA_VISIBLE_DEVICES, and with -gpu false nothing runs on a GPU; drop --cvd, or drop -gpu false"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--min-free-mem", "1GiB"],
             message: "multirun: --min-free-mem gates GPU tasks; with -gpu false nothing runs on a GPU"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--probe-timeout", "3"],
             message: "multirun: --probe-timeout limits how long nvidia-smi may take, and with -gpu false"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "-c", "t-1"],
             message: "multirun: -c/--config-regex given twice; to select several patterns, join them in one regex: -c 'a|b'"),
        Case(arguments: ["--completion", "tcsh"], message: "multirun: tcsh is not supported; use bash, zsh or fish"),
        // A switch given a value (bug 7): refused, not taken with the value dropped.
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--dry-run=false"],
             message: "multirun: --dry-run takes no value; drop '=false'"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "--runner", "./task.sh", "--no-check=false"], message: "multirun: --no-check takes no value; drop '=false'"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--overwrite=no"], message: "multirun: --overwrite takes no value; drop '=no'"),
        Case(arguments: ["submit", "-c", "t-", "--runner", "./task.sh", "--no-env=no"], message: "multirun: --no-env takes no value; drop '=no'"),
        Case(arguments: ["restart", "--failed=yes"], message: "multirun: --failed takes no value; drop '=yes'"),
        Case(arguments: ["log", "1", "--follow=1"], message: "multirun: --follow takes no value; drop '=1'"),
        // Options that do not apply (bug 19).
        Case(arguments: ["--commands", "jobs.txt", "-gpu", "false", "-check", "false", "-w"],
             message: "multirun: -w reruns configs that completed before, and --commands runs lines, not configs; drop -w"),
        Case(arguments: ["--commands", "jobs.txt", "-gpu", "false", "-check", "false", "--configs", "foo"],
             message: "multirun: --configs names the folder configs are found in, and --commands runs lines, not configs; drop --configs"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--on-finish-timeout", "5"],
             message: "multirun: --on-finish-timeout limits how long an --on-finish (or --on-empty) hook may run, and no --on-finish or --on-empty was given"),
        // A misspelt {overwrite?A:B} (bug 16) and suggestions (bug 20).
        Case(arguments: ["-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh {overwite?True:False}"],
             message: "multirun: --runner: unknown placeholder {overwite?True:False}; the known ones are"),
        Case(arguments: ["st"], message: "multirun: unexpected argument 'st'; did you mean the subcommand 'status'?"),
        Case(arguments: ["version"], message: "multirun: unexpected argument 'version'; did you mean '--version'?"),
        Case(arguments: ["log", "1", "--folow"], message: "multirun: unknown option '--folow' for 'multirun log'; did you mean '--follow'?"),
    ]

    @Test(arguments: refused) func refusedWithOneLine(_ c: Case) throws {
        let project = try project()
        let result = try multirun(c.arguments, in: project)
        #expect(result.status == 2, "\(c): \(result.stderr)")
        #expect(result.stderr.hasPrefix(c.message), "\(c): got \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!project.exists("started"), "a task started")
        #expect(!project.exists(".multirun"), "a queue folder was made")
        #expect(project.runFolders().isEmpty)
    }

    /// The same flags that are refused above work where they belong.
    @Test func ownFlagsStillWork() throws {
        let project = try project()
        let submit = try multirun(["submit", "--no-env", "-c", "t-", "--runner", "./task.sh"], in: project)
        #expect(submit.status == 0, "\(submit.stderr)")
        let status = try multirun(["status", "--json"], in: project)
        #expect(status.status == 0 && status.stdout.hasPrefix("{"), "\(status.stderr)")
        let run = try multirun(["run", "-c", "t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh", "--queue", "other"], in: project)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(project.exists("started"))
    }

    // MARK: - completion

    func script(_ shell: String) throws -> String {
        let project = try Project()
        let result = try multirun(["--completion", shell], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    /// Runs `shell args...` and returns its status and output.
    func shell(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func installed(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + name }.first { access($0, X_OK) == 0 }
    }

    @Test(arguments: ["bash", "zsh", "fish"]) func scriptParses(_ name: String) throws {
        let text = try script(name)
        #expect(text.contains("multirun"))
        guard let path = Self.installed(name) else {
            print("\(name) is not installed; skipping its syntax check of the completion script")
            return
        }
        let project = try Project()
        try project.write("completion.\(name)", text)
        let checked = try shell(path, ["-n", project.path("completion.\(name)")])
        #expect(checked.status == 0 && checked.output.isEmpty, "\(name) -n: \(checked.output)")
    }

    /// What bash offers for a command line, as compgen fills COMPREPLY.
    func bashOffers(_ words: [String], script: String, in project: Project) throws -> [String] {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let body = "source \(project.path("completion.bash")); COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); _multirun; printf '%s\\n' \"${COMPREPLY[@]}\""
        let result = try shell("/bin/bash", ["-c", body])
        #expect(result.status == 0, "\(result.output)")
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test func bashOffersSubcommandsAndTheirFlags() throws {
        let project = try Project()
        let text = try script("bash")
        try project.write("completion.bash", text)
        #expect(try bashOffers(["multirun", "st"], script: text, in: project) == ["status"])
        #expect(try bashOffers(["multirun", "d"], script: text, in: project) == ["daemon", "drain", "devices"])
        #expect(try bashOffers(["multirun", "status", "--"], script: text, in: project) == ["--results", "--queue", "--json", "--run", "--help"])
        #expect(try bashOffers(["multirun", "submit", "--no"], script: text, in: project) == ["--no-env"])
        #expect(try bashOffers(["multirun", "daemon", "--ex"], script: text, in: project) == ["--exit-when-idle"])
        #expect(try bashOffers(["multirun", "-c", "x", "-gpu", ""], script: text, in: project) == ["true", "false"])
        #expect(try bashOffers(["multirun", "devices", "--cvd", ""], script: text, in: project) == ["index", "uuid"])
        #expect(try bashOffers(["multirun", "help", "su"], script: text, in: project) == ["submit"])
        #expect(try bashOffers(["multirun", "--comp"], script: text, in: project) == ["--completion"])
        #expect(try bashOffers(["multirun", "--completion", "z"], script: text, in: project) == ["zsh"])
        // A one-shot run's own flags, not the queue's.
        let run = try bashOffers(["multirun", "-c", "x", "--"], script: text, in: project)
        #expect(run.contains("--runner") && run.contains("--timeout") && !run.contains("--json") && !run.contains("--no-env"))
        #expect(!run.contains("--completion"), "top-level flags only as the first word")
    }

    @Test func fishOffersSubcommandFlags() throws {
        guard let fish = Self.installed("fish") else { print("fish is not installed; skipping"); return }
        let project = try Project()
        try project.write("completion.fish", try script("fish"))
        let result = try shell(fish, ["-c", "source \(project.path("completion.fish")); complete -C'multirun status --'"])
        let offered = result.output.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }
        #expect(Set(offered) == ["--queue", "--results", "--json", "--run", "--help"], "\(result.output)")
    }

    // MARK: - man page and version

    @Test func manPageIsTheCommittedOne() throws {
        let project = try Project()
        let man = try multirun(["--man"], in: project)
        #expect(man.status == 0)
        let committed = try String(contentsOfFile: Self.packageRoot + "/contrib/multirun.1", encoding: .utf8)
        #expect(man.stdout == committed, "contrib/multirun.1 is stale: run .build/debug/multirun --man > contrib/multirun.1")
        #expect(man.stdout.contains(".TH MULTIRUN 1"))
        for spelling in ["config\\-regex", "exit\\-when\\-idle", "no\\-env", "min\\-free\\-mem"] {
            #expect(man.stdout.contains(spelling), "\(spelling)")
        }
        if let groff = Self.installed("groff") {
            try project.write("multirun.1", man.stdout)
            let rendered = try shell(groff, ["-man", "-Tutf8", "-ww", "-z", project.path("multirun.1")])
            #expect(rendered.status == 0 && rendered.output.isEmpty, "groff warns: \(rendered.output)")
        }
    }

    @Test func versionFromOnePlace() throws {
        let project = try Project()
        let long = try multirun(["--version"], in: project)
        let short = try multirun(["-V"], in: project)
        let runone = try Launched(Binaries.runone, ["--version"], in: project).finish()
        #expect(long.status == 0 && short.status == 0 && runone.status == 0)
        #expect(long.stdout == short.stdout)
        #expect(long.stdout.hasPrefix("multirun "))
        let number = long.stdout.dropFirst("multirun ".count)
        #expect(!number.isEmpty && number.first!.isNumber)
        #expect(runone.stdout == "runone " + number)
        let man = try multirun(["--man"], in: project)
        #expect(man.stdout.contains("\"multirun \(number.dropLast())\""))
    }
}
