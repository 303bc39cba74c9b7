import Foundation
import Glibc
import Testing
@testable import Scheduler

/// String `command:` placeholders, checked against the real /bin/sh: whatever a value
/// holds and wherever its placeholder sits, the program receives it as literal text.
@Suite(.serialized)
struct ShellLineTemplateTests {
    static let hostile: [String] = [
        "$(touch CANARY)", "`touch CANARY`", "it's", "say \"hi\"", "a; touch CANARY", "a && touch CANARY",
        "line1\nline2", "two  spaces\tand tab", "back\\slash\\", "\\", "$HOME", "${HOME}", "", "'", "\"",
        "'\"'\"", "\\'", "# not a comment", "*", "~", "{v}", "-n", "trailing\n", "\\\n", "0.001",
    ]

    /// Template and the argv it must give for the value v.
    static let contexts: [(String, @Sendable (String) -> [String])] = [
        ("{v}", { [$0] }),
        ("A {v} B", { ["A", $0, "B"] }),
        ("--x={v}", { ["--x=" + $0] }),
        ("\"{v}\"", { [$0] }),
        ("\"run-{v}-end\"", { ["run-" + $0 + "-end"] }),
        ("\"$HOME/{v}\"", { [ProcessInfo.processInfo.environment["HOME"]! + "/" + $0] }),
        ("'{v}'", { [$0] }),
        ("'pre {v} $HOME post'", { ["pre " + $0 + " $HOME post"] }),
        ("a\"{v}\"'{v}'{v}b", { ["a" + $0 + $0 + $0 + "b"] }),
        ("\"$(printf '%s|' {v})\"", { [$0 + "|"] }),
        ("\"$(printf '%s|' \"{v}\")\" '$(x)'", { [$0 + "|", "$(x)"] }),
        ("\"${HOME:+h}{v}\"", { ["h" + $0] }),
        ("x\\{v}", { ["x" + $0] }),
        ("\"x\\{v}\"", { ["x" + $0] }),
        ("A {v} # {v} $(touch CANARY)", { ["A", $0] }),
        ("\"it's {v}\" 'say \"{v}\"'", { ["it's " + $0, "say \"" + $0 + "\""] }),
    ]

    /// The words `/bin/sh -c LINE` hands printf, run in a scratch folder (whose
    /// CANARY file must never appear).
    func shellWords(_ line: String, in folder: String) throws -> [String]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '%s\\036' START " + line]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sh failed on: \(line)")
        var words = String(decoding: data, as: UTF8.self).split(separator: "\u{1E}", omittingEmptySubsequences: false).map(String.init)
        guard words.count >= 2, words.first == "START", words.last == "" else { return nil }
        words.removeFirst()
        words.removeLast()
        return words
    }

    @Test(arguments: 0..<contexts.count)
    func everyValueIsLiteralTextInEveryQuotingContext(_ context: Int) throws {
        let (template, expected) = Self.contexts[context]
        let folder = NSTemporaryDirectory() + "shell-template-\(getpid())-\(context)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for value in Self.hostile {
            let line = try ShellLineTemplate.fill(template, ["v": value])
            #expect(try shellWords(line, in: folder) == expected(value), "template \(template) with value \(value.debugDescription) gave line \(line.debugDescription)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/CANARY"), "a value was executed by the shell (template \(template))")
    }

    @Test func theBriefsExampleGivesPlainWords() throws {
        let line = try ShellLineTemplate.fill(#"python3 -c "import sys; print(sys.argv[1:])" --lr "{lr}" --tag "run-{name}""#, ["lr": "0.001", "name": "abc"])
        #expect(line == #"python3 -c "import sys; print(sys.argv[1:])" --lr ""'0.001'"" --tag "run-"'abc'"""#)
    }

    @Test func bracesThatAreNotPlaceholdersStayAsWritten() throws {
        #expect(try ShellLineTemplate.fill("echo {} {a-b} ${X:-y} {", [:]) == "echo {} {a-b} ${X:-y} {")
        #expect(try ShellLineTemplate.fill("awk '{print $1}' {f}", ["f": "x y"]) == "awk '{print $1}' 'x y'")
    }

    @Test func placeholdersTheShellWouldReadTwiceAreErrors() {
        #expect(throws: UsageError.self) { try ShellLineTemplate.fill("echo `echo {v}`", ["v": "x"]) }
        #expect(throws: UsageError.self) { try ShellLineTemplate.fill("echo ${v}", ["v": "x"]) }
        #expect(throws: UsageError.self) { try ShellLineTemplate.fill("echo \"${v}\"", ["v": "x"]) }
        #expect(throws: UsageError.self) { try ShellLineTemplate.fill("echo ${X:-${Y}{v}}", ["v": "x"]) }
        do {
            _ = try ShellLineTemplate.fill("echo {missing}", ["v": "x"])
            Issue.record("an unknown placeholder must be an error")
        } catch {
            #expect(error.message == "placeholder {missing} in command has no value; add 'missing:' under params (known: v)")
        }
    }
}
