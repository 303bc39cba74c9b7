import Testing
@testable import Scheduler

/// Every parser against the one table: what each accepts is what its help page and the
/// completion scripts list, and a switch never silently drops an `=value`.
struct CommandParsersTests {
    /// Parses `arguments` as `multirun NAME ...` would (log and restart have parsers of
    /// their own); the refusal's message, or nil when accepted.
    static func refusal(_ name: String, _ arguments: [String]) -> String? {
        do {
            switch name {
            case "log": _ = try LogCommand.parse(arguments + ["1"])
            case "restart": _ = try RestartCommand.parse(arguments + ["1"])
            default: _ = try OptionsParser.parse(arguments, requireTasks: false, allowPositionals: true, command: name)
            }
            return nil
        } catch {
            return error.message
        }
    }

    static func sample(_ option: CommandTable.Option) -> [String] {
        switch option.names[0] {
        case "-n" where option.value != nil: ["5"]
        case "--on-finish-timeout": ["5"]
        default: CommandTableTests.sample(option)
        }
    }

    /// Bug 7: `--switch=anything` is refused, with one line naming the switch and the
    /// value to drop, for every switch of every subcommand (and the top level's).
    @Test(arguments: CommandTable.subcommands.map(\.name).filter { $0 != "help" })
    func aSwitchTakesNoValue(_ name: String) throws {
        let command = try #require(CommandTable.subcommand(name))
        for option in CommandTable.options(of: command) where option.value == nil {
            for spelling in option.names where spelling.hasPrefix("--") {
                for value in ["false", "no", "foo", ""] {
                    let message = Self.refusal(name, ["\(spelling)=\(value)"])
                    #expect(message == "\(spelling) takes no value; drop '=\(value)'", "\(name) \(spelling)=\(value): \(message ?? "accepted")")
                }
            }
        }
        for option in CommandTable.topLevel where option.value == nil {
            for spelling in option.names where spelling.hasPrefix("--") {
                #expect(CommandTable.switchValueProblem(flag: spelling, inline: "x") == "\(spelling) takes no value; drop '=x'")
            }
        }
        // Options that take a value still take it after `=`.
        #expect(Self.refusal("run", ["--gpu=false"]) == nil)
        #expect(Self.refusal("log", ["--lines=1"]) == nil)
        #expect(try LogCommand.parse(["--lines=3", "--queue=q", "7"]) == LogCommand.Request(target: "7", lines: 3, follow: false, queue: "q"))
        #expect(try RestartCommand.parse(["--queue=q", "--failed"]) == RestartCommand.Request(ids: [], failed: true, overwrite: false, queue: "q"))
    }

    /// Bug 15: each subcommand's parser accepts every spelling its table row (help page,
    /// completion) lists, and refuses, with the nearest spelling, what the row lacks.
    @Test(arguments: CommandTable.subcommands.map(\.name).filter { $0 != "help" })
    func eachParserAcceptsExactlyItsTableRow(_ name: String) throws {
        let command = try #require(CommandTable.subcommand(name))
        // (-h/--help is answered before any parser runs.)
        for option in CommandTable.options(of: command) where option.names[0] != "-h" {
            for spelling in option.names {
                let message = Self.refusal(name, [spelling] + Self.sample(option)) ?? ""
                #expect(!message.contains("unknown option") && !message.contains("does not apply") && !message.contains("not a task id or option"),
                        "\(name) \(spelling): \(message)")
            }
        }
        let listed = Set(CommandTable.options(of: command).flatMap(\.names))
        for spelling in CommandTable.options.flatMap(\.names) + ["--failed", "--follow", "--lines"] where !listed.contains(spelling) && spelling != "--version" && spelling != "-V" {
            let message = Self.refusal(name, [spelling, "1"]) ?? "accepted"
            #expect(message.contains("does not apply") || message.contains("unknown option"), "\(name) \(spelling): \(message)")
        }
        // A typo of its own flag gets the flag.
        if name == "log" { #expect(Self.refusal(name, ["--folow"])?.contains("did you mean '--follow'?") == true) }
        if name == "restart" { #expect(Self.refusal(name, ["--fialed"])?.contains("did you mean '--failed'?") == true) }
    }

    /// Bug 15: restart --failed is on restart's help page and in all three completions.
    @Test func restartFailedIsListed() throws {
        let restart = try #require(CommandTable.subcommand("restart"))
        #expect(CommandTable.helpPage(restart).contains("\n  --failed "))
        for shell in ["bash", "zsh", "fish"] {
            #expect(Completion.script(shell).contains("failed"), "\(shell)")
        }
        #expect(Completion.script("bash").contains("--failed"))
    }

    /// Bug 19: an option that only modifies an absent one, or applies to configs under
    /// --commands, is refused with one line saying why.
    @Test func optionsThatDoNotApplyAreRefused() {
        for name in ["run", "daemon"] {
            let message = Self.refusal(name, ["--on-finish-timeout", "5"])
            #expect(message?.hasPrefix("--on-finish-timeout limits how long an --on-finish (or --on-empty) hook may run, and no --on-finish or --on-empty was given") == true, "\(message ?? "accepted")")
            #expect(Self.refusal(name, ["--on-finish", "true", "--on-finish-timeout", "5"]) == nil)
        }
        for name in ["run", "submit"] {
            for extra in [["-w"], ["--overwrite"], ["--configs", "foo"], ["--mpi-launcher", "mpirun"]] {
                let message = Self.refusal(name, ["--commands", "j.txt"] + extra)
                #expect(message?.contains("and --commands runs lines, not configs") == true, "\(name) \(extra): \(message ?? "accepted")")
                #expect(Self.refusal(name, ["-c", "x"] + extra) == nil, "\(name) \(extra)")
            }
        }
    }

    /// Bug 20: --on-finish-timeout takes the units --timeout takes.
    @Test func onFinishTimeoutTakesTimeUnits() throws {
        for (text, seconds) in [("1d", 86400.0), ("5m", 300), ("90", 90), ("0.2", 0.2), ("1:30", 90)] {
            let options = try OptionsParser.parse(["-c", "x", "--on-finish", "true", "--on-finish-timeout", text], command: "run")
            #expect(options.onFinishTimeout == seconds, "\(text)")
        }
        #expect(Self.refusal("run", ["--on-finish", "true", "--on-finish-timeout", "soon"])?.contains("is not a positive number of seconds") == true)
    }

    /// Bug 20: a word that is a subcommand's prefix or an option without its dashes.
    @Test func unexpectedWordsGetASuggestion() {
        #expect(CommandTable.unexpectedWord("st", command: "run") == "unexpected argument 'st'; did you mean the subcommand 'status'? To select configs by it, write -c 'st'")
        #expect(CommandTable.unexpectedWord("version", command: "run") == "unexpected argument 'version'; did you mean '--version'? To select configs by it, write -c 'version'")
        #expect(CommandTable.unexpectedWord("exp-1", command: "run") == "unexpected argument 'exp-1'; to select configs by it, write -c 'exp-1'")
    }

    /// Bug 16: a `{name?A:B}` other than `{overwrite?A:B}` is refused like an unknown `{name}`.
    @Test func misspeltChoicePlaceholdersAreRefused() {
        for word in ["{overwite?True:False}", "{foo?a:b}", "{gpu?a:b}", "{OVERWRITE?a:b}", "--x={foo?a:b}"] {
            var message = ""
            do { _ = try RunnerTemplate("run.py \(word)") } catch { message = error.message }
            let name = word.drop { $0 != "{" }
            #expect(message.hasPrefix("--runner: unknown placeholder \(name); the known ones are {config} {output} {gpu} {slot} {overwrite} {overwrite?WITH:WITHOUT}"), "\(word): \(message)")
        }
        #expect((try? RunnerTemplate("run.py --overwrite {overwrite?True:False} '{\"a\": 1}'")) != nil)
    }

    /// Bug 20: runone suggests the nearest of its options.
    @Test func runoneSuggestsItsOption() {
        var message = ""
        do { _ = try RunoneCommand.parse(["--versoin"]) } catch { message = error.message }
        #expect(message.hasPrefix("unknown option '--versoin'; did you mean '--version'?"), "\(message)")
    }
}
