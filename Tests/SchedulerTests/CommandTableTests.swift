import Testing
@testable import Scheduler

/// The option table: every flag against every subcommand, suggestions, repeats, CPU mode.
struct CommandTableTests {
    /// A value each option accepts, so a parse fails only for the reason under test.
    static func sample(_ option: CommandTable.Option) -> [String] {
        switch option.names[0] {
        case "-c": ["x"]
        case "-d": ["1"]
        case "-gpu", "-check": ["true"]
        case "--cvd": ["index"]
        case "--cpu-slots": ["2"]
        case "--min-free-mem": ["1GiB"]
        case "--probe-timeout", "--timeout", "--grace": ["3"]
        default: option.value == nil ? [] : ["v"]
        }
    }

    /// Each subcommand accepts exactly its own options: any other is refused with
    /// "does not apply", naming where it belongs; its own never are.
    @Test(arguments: CommandTable.subcommands.map(\.name).filter { $0 != "help" })
    func everyFlagAgainstSubcommand(_ name: String) throws {
        let command = try #require(CommandTable.subcommand(name))
        let own = CommandTable.options(of: command).map(\.names)
        // A spelling the subcommand gives a meaning of its own (`log -n LINES`) is its own.
        let ownSpellings = Set(command.ownOptions.flatMap(\.names))
        for option in CommandTable.options {
            for spelling in option.names where !ownSpellings.contains(spelling) {
                let arguments = [spelling] + Self.sample(option)
                var message = ""
                do { _ = try OptionsParser.parse(arguments, requireTasks: false, allowPositionals: true, command: name) } catch {
                    message = error.message
                }
                if own.contains(option.names) {
                    #expect(!message.contains("does not apply"), "\(name) \(spelling): \(message)")
                    #expect(!message.contains("unknown option"), "\(name) \(spelling): \(message)")
                } else {
                    #expect(message.hasPrefix("\(spelling) does not apply to "), "\(name) \(spelling): '\(message)'")
                    #expect(message.contains("multirun help \(name)"), "\(message)")
                }
            }
        }
    }

    @Test func theAuditedTable() {
        // What each subcommand owns, written out, so a change to the table is a choice.
        let expected: [String: [String]] = [
            "run": ["-c", "--configs", "--commands", "-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--min-free-mem", "--mpi-launcher",
                    "--probe-timeout", "-check", "--no-check", "-w", "--runner", "--timeout", "--grace", "--results", "--queue", "-h",
                    "--retries", "--retry-on", "--halt", "-n", "--joblog", "--on-finish", "--on-finish-timeout",
                    "--backend", "--array-limit", "--sbatch-arg", "--detach"],
            "daemon": ["-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--min-free-mem", "--probe-timeout", "--timeout", "--grace", "--queue", "--exit-when-idle", "-h",
                       "--halt", "--on-finish", "--on-empty", "--on-finish-timeout", "--joblog"],
            "submit": ["-c", "--configs", "--commands", "--mpi-launcher", "-w", "--runner", "--results", "--queue", "--no-env", "-h", "--retries", "--retry-on", "--priority", "--after", "-n"],
            "status": ["--queue", "--json", "--run", "--results", "-h"],
            "cancel": ["--grace", "--queue", "--all", "-h"],
            "wait": ["--queue", "--run", "--results", "-h"],
            "drain": ["--queue", "-h"],
            "devices": ["-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--probe-timeout", "--json", "-h"],
            "sweep": ["--grid", "--subjects", "--out", "--prune", "--runner", "-h"],
        ]
        for (name, names) in expected {
            let command = CommandTable.subcommand(name)!
            #expect(Set(CommandTable.options(of: command).map { $0.names[0] }) == Set(names), "\(name)")
        }
    }

    @Test func nearestNames() {
        #expect(CommandTable.nearest("statsu", among: CommandTable.subcommandNames) == "status")
        #expect(CommandTable.nearest("sbumit", among: CommandTable.subcommandNames) == "submit")
        #expect(CommandTable.nearest("deamon", among: CommandTable.subcommandNames) == "daemon")
        #expect(CommandTable.nearest("--jsn", among: ["--json", "--queue"]) == "--json")
        #expect(CommandTable.nearest("--timout", among: ["--timeout", "--grace"]) == "--timeout")
        // Config patterns are not typos of subcommands.
        #expect(CommandTable.nearest("exp-1", among: CommandTable.subcommandNames) == nil)
        #expect(CommandTable.nearest("lr", among: CommandTable.subcommandNames) == nil)
        #expect(CommandTable.nearest("xyz", among: CommandTable.subcommandNames) == nil)
    }

    @Test func unknownOptionSuggestsItsOwnThenAnother() {
        #expect(CommandTable.problem(flag: "--jsn", raw: "--jsn", command: "status") ==
                "unknown option '--jsn' for 'multirun status'; did you mean '--json'? (see 'multirun help status')")
        #expect(CommandTable.problem(flag: "--jsn", raw: "--jsn", command: "run") ==
                "unknown option '--jsn' for a one-shot run (multirun -c ...); the nearest, '--json', belongs to 'status', 'devices' (see 'multirun help run')")
        #expect(CommandTable.problem(flag: "--frobnicate", raw: "--frobnicate", command: "wait") ==
                "unknown option '--frobnicate' for 'multirun wait'; run 'multirun help wait' to see its options")
    }

    @Test func aValueOptionTwiceIsRefused() {
        #expect(throws: UsageError("-c/--config-regex given twice; to select several patterns, join them in one regex: -c 'a|b'")) {
            try OptionsParser.parse(["-c", "a", "--config-regex", "b"], command: "run")
        }
        #expect(throws: UsageError("--timeout given twice; give it once")) {
            try OptionsParser.parse(["-c", "a", "--timeout=1", "--timeout", "2"], command: "run")
        }
        // Switches may repeat; without a command (library use) nothing changes.
        #expect(throws: Never.self) { try OptionsParser.parse(["-c", "a", "-w", "-w"], command: "run") }
        #expect(throws: Never.self) { try OptionsParser.parse(["-c", "a", "-c", "b"]) }
    }

    @Test func gpuOnlyOptionsInCPUMode() {
        #expect(throws: UsageError("--cvd chooses what GPU tasks get in CUDA_VISIBLE_DEVICES, and with -gpu false nothing runs on a GPU; drop --cvd, or drop -gpu false")) {
            try OptionsParser.parse(["-c", "a", "-gpu", "false", "--cvd", "uuid"], command: "run")
        }
        #expect(throws: UsageError("--probe-timeout limits how long nvidia-smi may take, and with -gpu false nothing runs on a GPU; drop --probe-timeout, or drop -gpu false")) {
            try OptionsParser.parse(["--no-gpu", "--probe-timeout", "3"], requireTasks: false, command: "daemon")
        }
        #expect(throws: Never.self) { try OptionsParser.parse(["-c", "a", "--cvd", "uuid"], command: "run") }
    }

    @Test func helpPagesListOnlyTheirOwnOptions() throws {
        for command in CommandTable.subcommands where command.name != "help" {
            let page = CommandTable.helpPage(command)
            #expect(page.hasPrefix("OVERVIEW: "))
            #expect(page.contains("USAGE: multirun "))
            for option in CommandTable.options {
                let listed = page.contains("\n  " + CommandTable.optionLabel(option))
                let own = CommandTable.options(of: command).contains { $0.names == option.names }
                #expect(listed == own, "\(command.name) page and \(option.names[0])")
            }
        }
    }
}
