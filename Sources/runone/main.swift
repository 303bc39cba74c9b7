import Glibc
import Scheduler

if let problem = ArgumentBytes.problem(argc: CommandLine.argc, argv: CommandLine.unsafeArgv) {
    Console.standardError.line("runone: \(problem)")
    exit(2)
}
exit(RunoneCommand.main(Array(CommandLine.arguments.dropFirst())))
