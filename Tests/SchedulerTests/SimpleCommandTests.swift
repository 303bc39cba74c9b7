import Testing
@testable import Scheduler

struct SimpleCommandTests {
    @Test(arguments: [
        "python3 -c 'import os; os.kill(os.getpid(), 9)'",
        "python train.py --lr=0.1 > out.txt 2>&1",
        "python3 \"$HOME; (x) {y} | z\" $(date; echo ')') `a;b` ${X:-;}",
        "./run.sh --tag 'a & b' < in.txt >| out.txt",
        "env FOO=1 python x.py",
        "python x.py # trailing; comment",
    ])
    func oneSimpleCommandIsExeced(_ line: String) {
        #expect(CommandLineWords.isSimpleCommand(line), "\(line)")
        #expect(CommandLineWords.shellArgv(line) == ["/bin/sh", "-c", "exec " + line])
    }

    @Test(arguments: [
        "python3 -c 'import os; os.kill(os.getpid(), 9)'; exit $?",
        "sh -c 'kill -9 $$' ; exit $?",
        "a && b", "a || b", "a | b", "a &", "a\nb", "(a)", "{ a; }", "a {b,c}",
        "cd /tmp && python x.py", "cd /tmp", "export X=1", "FOO=1 python x.py", "exit 3", "set -e", ". ./env.sh",
        "if true; then a; fi", "! false", "time python x.py", "$PY x.py", "\"python3\" x.py", "'a b' c",
        "> out.txt python x.py", "2>err python x.py", "*.sh", "# only a comment", "echo 'unclosed", "echo \"unclosed",
        "echo $(unclosed", "", "   ",
        // A comment ends at its line break; the next line is a second command.
        "echo a > a.txt # note\necho b > b.txt", "python x.py # note\npython y.py",
        // Builtins whose program behaves otherwise keep the shell.
        "echo \"a\\tb\"", "printf '%s' x", "test -e x", "pwd", "kill -9 1234", "true",
    ])
    func anythingElseRunsUnderTheShellAsWritten(_ line: String) {
        #expect(!CommandLineWords.isSimpleCommand(line), "\(line)")
        #expect(CommandLineWords.shellArgv(line) == ["/bin/sh", "-c", line])
    }

    @Test func theShellReportsSignalsAs128PlusN() {
        #expect(TaskExit(exitCode: 137).signalReportedByShell == 9)
        #expect(TaskExit(exitCode: 129).signalReportedByShell == 1)
        #expect(TaskExit(exitCode: 192).signalReportedByShell == 64)
        #expect(TaskExit(exitCode: 193).signalReportedByShell == nil)
        #expect(TaskExit(exitCode: 128).signalReportedByShell == nil)
        #expect(TaskExit(exitCode: 1).signalReportedByShell == nil)
        #expect(TaskExit(signal: 9).signalReportedByShell == nil)
    }

    @Test func endLinesTellAShellsReportFromAFailedStart() {
        var record = TaskRecord(number: 1, config: nil, command: "sh -c 'kill -9 $$'; exit $?", status: .failed)
        record.exit = TaskExit(exitCode: 137)
        record.pid = 42
        record.logPath = "l.log"
        #expect(RunReporter.endLine(record, k: 1, of: 2) == "The process failed with exit code 137 (log: l.log): sh -c 'kill -9 $$'; exit $? [1/2]")
        record.noteShellSignal(9)
        #expect(record.error == "the shell reports signal 9 (SIGKILL)")
        #expect(RunReporter.endLine(record, k: 1, of: 2)
            == "The process failed with exit code 137 (the shell reports signal 9, SIGKILL) (log: l.log): sh -c 'kill -9 $$'; exit $? [1/2]")
        #expect(signalName(40) == "SIGRTMIN+6" && signalName(64) == "SIGRTMAX" && signalName(60) == "SIGRTMAX-4")
    }
}
