import Glibc
import Scheduler

// Block the signals the event loop reads from a signalfd before any thread exists.
SignalChannel.blockHandledSignals()
exit(MultirunCommand.main(Array(CommandLine.arguments.dropFirst())))
