import Testing
@testable import Scheduler

/// `after:` and `priority:` in the pure core: readiness, dependency failures, cycles, order.
struct DependencyTests {
    func launches(_ dispatcher: inout Dispatcher) -> [Int] {
        var result: [Int] = []
        while let launch = dispatcher.nextLaunch() { result.append(launch.task) }
        return result
    }

    /// A dependant waits for its prerequisites, starts once they all succeeded, and tasks
    /// behind it in line are not held up meanwhile.
    @Test func dependantStartsOnlyAfterItsPrerequisitesSucceeded() {
        var d = Dispatcher(demands: Array(repeating: .cpu(), count: 4), pool: SlotPool(capacities: [(.cpu, 2)]),
                           after: [[], [0, 2], [], []])
        #expect(launches(&d) == [0, 2])
        d.taskEnded(0, status: .succeeded)
        #expect(launches(&d) == [3])
        // Both slots busy (2, 3): 1 is ready but waits for a slot.
        #expect(launches(&d) == [])
        d.taskEnded(3, status: .succeeded)
        #expect(launches(&d) == [])
        d.taskEnded(2, status: .succeeded)
        #expect(launches(&d) == [1])
        #expect(d.takeDependencyFailures().isEmpty)
        #expect(d.taskEnded(1, status: .succeeded) == 4)
        #expect(d.isDone)
    }

    /// A failed, timed-out or interrupted prerequisite ends its dependants, and theirs,
    /// as dependency_failed without starting them; each takes its k.
    @Test(arguments: [TaskStatus.failed, .timedOut, .interrupted, .notStarted])
    func failedPrerequisiteEndsDependantsTransitively(_ status: TaskStatus) {
        var d = Dispatcher(demands: Array(repeating: .cpu(), count: 4), pool: SlotPool(capacities: [(.cpu, 1)]),
                           after: [[], [0], [1], []])
        #expect(launches(&d) == [0])
        #expect(d.taskEnded(0, status: status) == 1)
        let failures = d.takeDependencyFailures()
        #expect(failures.map(\.task) == [1, 2] && failures.map(\.k) == [2, 3] && failures.map(\.cause) == [0, 0])
        #expect(d.takeDependencyFailures().isEmpty)
        #expect(d.count(of: .dependencyFailed) == 2)
        #expect(launches(&d) == [3])
        #expect(d.taskEnded(3, status: .succeeded) == 4)
        #expect(d.isDone && d.notStarted.isEmpty)
    }

    /// Blocked tasks are not among the upcoming ones (their logs are not prepared).
    @Test func upcomingLeavesOutBlockedTasks() {
        var d = Dispatcher(demands: Array(repeating: .cpu(), count: 3), pool: SlotPool(capacities: [(.cpu, 1)]),
                           after: [[], [0], []])
        #expect(launches(&d) == [0])
        #expect(d.upcoming(5) == [2])
        d.stop()
        d.taskEnded(0, status: .interrupted)
        #expect(d.notStarted == [2] && d.count(of: .dependencyFailed) == 1)
    }

    @Test func cyclesAreFoundAndNamedInOrder() {
        #expect(DependencyGraph.cycle([[], [0], [1]]) == nil)
        #expect(DependencyGraph.cycle([[1], [2], [0]]) == [0, 1, 2, 0])
        #expect(DependencyGraph.cycle([[], [1]]) == [1, 1])
        #expect(DependencyGraph.cycle([[], [2], [3], [1]]) == [1, 2, 3, 1])
        // A long chain is no recursion.
        #expect(DependencyGraph.cycle((0..<100_000).map { $0 == 0 ? [] : [$0 - 1] }) == nil)
    }

    @Test func priorityOrdersHigherFirstAndKeepsTiesInPathOrder() {
        #expect(DependencyGraph.byPriority([0, 5, 0, -1, 5]) == [1, 4, 0, 2, 3])
        #expect(DependencyGraph.byPriority([]) == [])
    }

    @Test func afterNamesMatchPathsNamesAndStems() {
        let path = "configs/exp-1/exp-1-2.yaml"
        for name in ["configs/exp-1/exp-1-2.yaml", "configs/exp-1/exp-1-2", "exp-1/exp-1-2.yaml", "exp-1/exp-1-2", "exp-1-2"] {
            #expect(RunPlan.afterName(name, matches: path, root: "configs"), "\(name)")
        }
        for name in ["exp-1", "1-2", "exp-1-2.json", "other/exp-1-2"] {
            #expect(!RunPlan.afterName(name, matches: path, root: "configs"), "\(name)")
        }
    }

    /// The scheduling keys are read and checked; runone accepts and ignores them.
    @Test func schemaReadsPriorityAndAfter() throws {
        let ok = try ConfigSchema.check(Array("command: [true]\npriority: 3\nafter: [a, b/c]\n".utf8), path: "c.yaml", runone: true)
        #expect(ok.priority == 3 && ok.after == ["a", "b/c"])
        let single = try ConfigSchema.check(Array("command: [true]\nafter: a\n".utf8), path: "c.yaml", runone: true)
        #expect(single.after == ["a"])
        #expect(throws: ConfigProblem.self) { try ConfigSchema.check(Array("command: [true]\npriority: high\n".utf8), path: "c.yaml", runone: true) }
        #expect(throws: ConfigProblem.self) { try ConfigSchema.check(Array("command: [true]\nafter: [1]\n".utf8), path: "c.yaml", runone: true) }
    }
}
