import Glibc
import Scheduler

// Block the signals the event loop reads from a signalfd before any thread exists.
SignalChannel.blockHandledSignals()
if let problem = ArgumentBytes.problem(argc: CommandLine.argc, argv: CommandLine.unsafeArgv) {
    Console.standardError.line("multirun: \(problem)")
    exit(2)
}
exit(MultirunCommand.main(Array(CommandLine.arguments.dropFirst())))
