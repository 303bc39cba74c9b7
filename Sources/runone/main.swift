import Glibc
import Scheduler

exit(RunoneCommand.main(Array(CommandLine.arguments.dropFirst())))
