import Testing
@testable import Scheduler

/// Retries and halts as pure state transitions of the dispatcher, step by step.
struct RetryHaltTests {
    func launches(_ d: inout Dispatcher) -> [Int] {
        var tasks: [Int] = []
        while let launch = d.nextLaunch() { tasks.append(launch.task) }
        return tasks
    }

    @Test func aFailedTaskRunsAgainFirstInLineUntilItsRetriesAreSpent() {
        var d = Dispatcher(taskCount: 3, pool: SlotPool(capacities: [(.cpu, 1)]))
        d.retry = RetryPolicy(retries: 2)
        #expect(launches(&d) == [0])
        #expect(d.attempts[0] == 1)
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 3)) == .retry(next: 2))
        #expect(d.endedCount == 0, "a retried attempt is not counted in k")
        // The retry goes before task 1.
        #expect(launches(&d) == [0])
        #expect(d.attempts[0] == 2)
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 3)) == .retry(next: 3))
        #expect(launches(&d) == [0])
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 3)) == .final(k: 1))
        #expect(d.attempts[0] == 3 && d.failedCount == 1)
        #expect(launches(&d) == [1])
        #expect(d.attemptEnded(1, status: .succeeded, exit: TaskExit(exitCode: 0)) == .final(k: 2))
        #expect(d.attempts[1] == 1)
        #expect(launches(&d) == [2])
        #expect(d.attemptEnded(2, status: .failed, exit: TaskExit(exitCode: 1)) == .retry(next: 2))
        #expect(launches(&d) == [2])
        #expect(d.attemptEnded(2, status: .succeeded, exit: TaskExit(exitCode: 0)) == .final(k: 3))
        #expect(d.isDone && d.count(of: .succeeded) == 2 && d.count(of: .failed) == 1)
    }

    @Test func retryOnMatchesExitCodesSignalsAs128PlusNAndTimeoutsAs124() {
        let policy = RetryPolicy(retries: 1, codes: [137, 124])
        #expect(policy.retries(attempt: 1, status: .failed, exit: TaskExit(signal: 9)))
        #expect(policy.retries(attempt: 1, status: .failed, exit: TaskExit(exitCode: 137)))
        #expect(policy.retries(attempt: 1, status: .timedOut, exit: TaskExit(signal: 15)))
        #expect(!policy.retries(attempt: 1, status: .failed, exit: TaskExit(exitCode: 1)))
        #expect(!policy.retries(attempt: 1, status: .failed, exit: TaskExit(signal: 15)))
        #expect(!policy.retries(attempt: 2, status: .failed, exit: TaskExit(signal: 9)), "the retries are spent")
        let any = RetryPolicy(retries: 1)
        #expect(any.retries(attempt: 1, status: .failed, exit: TaskExit(exitCode: 1)))
        #expect(any.retries(attempt: 1, status: .timedOut, exit: TaskExit()))
        for status in [TaskStatus.succeeded, .interrupted, .notStarted, .skipped] {
            #expect(!any.retries(attempt: 1, status: status, exit: TaskExit(exitCode: 1)), "\(status) is never retried")
        }
        #expect(!RetryPolicy().retries(attempt: 1, status: .failed, exit: TaskExit(exitCode: 1)))
        #expect(RetryPolicy.parseCodes("137,143") == [137, 143])
        #expect(RetryPolicy.parseCodes("1 2,2") == [1, 2])
        for bad in ["", "0", "256", "x", "1,,a", "-1"] { #expect(RetryPolicy.parseCodes(bad) == nil, "\(bad)") }
    }

    @Test func aStoppingRunRetriesNothing() {
        var d = Dispatcher(taskCount: 2, pool: SlotPool(capacities: [(.cpu, 1)]))
        d.retry = RetryPolicy(retries: 3)
        #expect(launches(&d) == [0])
        d.stop()
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 1)) == .final(k: 1))
        #expect(d.isDone && d.notStarted == [1])
    }

    @Test func haltSoonOnFailureStartsNothingMoreAndLeavesTheRestNotStarted() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.cpu, 2)]))
        d.halt = HaltPolicy(when: .soon, onFailure: true, count: .tasks(1))
        #expect(launches(&d) == [0, 1])
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 2)) == .final(k: 1))
        #expect(d.halted?.when == .soon && d.isStopping)
        #expect(launches(&d) == [])
        #expect(!d.isDone, "task 1 still runs")
        #expect(d.attemptEnded(1, status: .succeeded, exit: TaskExit(exitCode: 0)) == .final(k: 2))
        #expect(d.isDone && d.notStarted == [2, 3, 4])
    }

    @Test func aRetriedAttemptDoesNotCountForTheHalt() {
        var d = Dispatcher(taskCount: 3, pool: SlotPool(capacities: [(.cpu, 1)]))
        d.retry = RetryPolicy(retries: 1)
        d.halt = HaltPolicy(when: .now, onFailure: true, count: .tasks(1))
        _ = launches(&d)
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 1)) == .retry(next: 2))
        #expect(d.halted == nil)
        #expect(launches(&d) == [0])
        #expect(d.attemptEnded(0, status: .failed, exit: TaskExit(exitCode: 1)) == .final(k: 1))
        #expect(d.halted?.when == .now)
        #expect(d.notStarted == [1, 2])
    }

    @Test func haltOnSuccessCountsAndPercentagesWaitForThreeEndedTasks() {
        var d = Dispatcher(taskCount: 4, pool: SlotPool(capacities: [(.cpu, 1)]))
        d.halt = HaltPolicy(when: .soon, onFailure: false, count: .tasks(2))
        _ = launches(&d)
        _ = d.attemptEnded(0, status: .succeeded, exit: TaskExit(exitCode: 0))
        #expect(d.halted == nil)
        _ = launches(&d)
        _ = d.attemptEnded(1, status: .succeeded, exit: TaskExit(exitCode: 0))
        #expect(d.halted != nil && d.notStarted == [2, 3])

        let percent = HaltPolicy(when: .now, onFailure: true, count: .percent(50))
        #expect(!percent.holds(failed: 1, succeeded: 0, ended: 1), "one failure of one is not yet 50% of a run")
        #expect(!percent.holds(failed: 1, succeeded: 2, ended: 3))
        #expect(percent.holds(failed: 2, succeeded: 1, ended: 3))
        #expect(percent.holds(failed: 2, succeeded: 2, ended: 4))
        #expect(HaltPolicy(when: .soon, onFailure: false, count: .percent(100)).holds(failed: 0, succeeded: 3, ended: 3))
    }

    @Test func haltRulesParseAsGNUParallelWritesThem() throws {
        func parsed(_ text: String) -> HaltPolicy? { if case .success(let p) = HaltPolicy.parse(text) { return p }; return nil }
        #expect(parsed("now,fail=1") == HaltPolicy(when: .now, onFailure: true, count: .tasks(1)))
        #expect(parsed("soon,fail=10%") == HaltPolicy(when: .soon, onFailure: true, count: .percent(10)))
        #expect(parsed("soon,success=3") == HaltPolicy(when: .soon, onFailure: false, count: .tasks(3)))
        #expect(parsed("now,success=2.5%")?.text == "now,success=2.5%")
        #expect(parsed("soon,fail=10%")?.text == "soon,fail=10%")
        for bad in ["", "now", "fail=1", "later,fail=1", "now,fail=0", "now,fail=-1", "now,fail=0%", "now,fail=101%", "now,oops=1", "now,fail=x", "now,fail="] {
            #expect(parsed(bad) == nil, "\(bad)")
        }
        #expect(HaltPolicy(when: .now, onFailure: true, count: .tasks(1)).reason(failed: 1, succeeded: 4) == "--halt now,fail=1: 1 task failed")
        #expect(HaltPolicy(when: .soon, onFailure: false, count: .tasks(2)).reason(failed: 0, succeeded: 2) == "--halt soon,success=2: 2 tasks succeeded")
    }

    @Test func timeLimitsReadUnitsAndSlurmForms() {
        let cases: [(String, Double)] = [
            ("90", 90), ("1.5", 1.5), ("1e9", 1e9), ("30s", 30), ("45m", 2700), ("2h", 7200), ("1d", 86400), ("1.5h", 5400),
            ("1:30", 90), ("02:00:00", 7200), ("2:00:00", 7200), ("00:00:00.5", 0.5), ("1-12", 129600), ("1-12:30", 131400),
            ("1-12:30:15", 131415), ("0-00:00:01", 1), ("100:00:00", 360000),
        ]
        for (text, seconds) in cases { #expect(TimeLimit.seconds(text) == seconds, "\(text)") }
        for bad in ["", "h", "2x", "1:60", "1:2:3:4", "1-24:00:00", "-1-1", "1.5:00", "a:b", "2 h", "inf", "nan", "1--2"] {
            #expect(TimeLimit.seconds(bad) == nil, "\(bad)")
        }
        #expect(TimeLimit.check("0").seconds == nil && TimeLimit.check("0").problem == TimeLimit.problem)
        #expect(TimeLimit.check("-5").seconds == nil)
        #expect(TimeLimit.check("0.0001").problem == "is less than a millisecond; give at least 0.001 seconds")
        #expect(TimeLimit.check("40000d").problem == "is too long; give at most 1000000000 seconds (about 31 years)")
        #expect(TimeLimit.check("0.001").seconds == 0.001)
    }

    @Test func optionsTakeRetriesHaltAndTimeUnits() throws {
        let o = try OptionsParser.parse(["--commands", "x", "--retries", "2", "--retry-on", "137,143", "--halt", "soon,fail=3", "--timeout", "2h"])
        #expect(o.retry == RetryPolicy(retries: 2, codes: [137, 143]))
        #expect(o.halt == HaltPolicy(when: .soon, onFailure: true, count: .tasks(3)))
        #expect(o.timeout == 7200)
        #expect(try OptionsParser.parse(["--commands", "x", "--timeout=1-00:00:00"]).timeout == 86400)
        let problems: [([String], String)] = [
            (["--retries", "-1"], "--retries: '-1' is not a number of retries from 0 to 1000; e.g. --retries 2 runs a failed task at most twice more"),
            (["--retries", "1001"], "--retries: '1001' is not a number of retries from 0 to 1000; e.g. --retries 2 runs a failed task at most twice more"),
            (["--retries", "1", "--retry-on", "0"], "--retry-on: '0' is not a list of exit codes from 1 to 255; write e.g. --retry-on 137,143 (a kill by signal N counts as 128+N, a timeout as 124)"),
            (["--retry-on", "137"], "--retry-on needs --retries N, how many more times a failed task runs, e.g. --retries 2 --retry-on 137"),
            (["--halt", "now"], "--halt: 'now' is not a halt rule; write now or soon, then fail= or success= a count (1 or more) or a percentage (1% to 100%), e.g. --halt soon,fail=3 or --halt now,fail=10%"),
            (["--timeout", "2x"], "--timeout: '2x' is not a positive number of seconds (90) or a time limit such as 30s, 45m, 2h, 1d or HH:MM:SS (also D-HH:MM:SS); e.g. --timeout 90m"),
            (["--timeout", "40000d"], "--timeout: '40000d' is too long; give at most 1000000000 seconds (about 31 years)"),
        ]
        for (arguments, message) in problems {
            do {
                _ = try OptionsParser.parse(["--commands", "x"] + arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(error.message == message)
            }
        }
    }

    @Test func resourcesTimeOverridesAndIsRangeChecked() throws {
        func time(_ yaml: String) throws(UsageError) -> Double? { try TaskResources.read(Array(yaml.utf8), path: "configs/a.yaml").time }
        #expect(try time("resources: {time: 2h}\n") == 7200)
        #expect(try time("resources: {time: 90}\n") == 90)
        #expect(try time("resources: {time: 2:00:00}\n") == 7200, "YAML's base-60 integer is those seconds")
        #expect(try time("resources: {time: '02:00:00'}\n") == 7200)
        #expect(try time("resources: {time: 1-12:00:00}\n") == 129600)
        #expect(try time("{\"resources\": {\"time\": 1.5}}") == 1.5)
        #expect(try time("lr: 1\n") == nil)
        for (yaml, fragment) in [("resources: {time: soon}\n", "(found soon)"), ("resources: {time: 0}\n", "is not a positive number"),
                                 ("resources: {time: 40000d}\n", "is too long"), ("resources: {time: [1]}\n", "(found a list)"),
                                 ("resources: {tme: 1h}\n", "did you mean 'time'?")] {
            do {
                _ = try time(yaml)
                Issue.record("\(yaml) was accepted")
            } catch {
                #expect(error.message.contains("resources.t"), "\(error.message)")
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}
