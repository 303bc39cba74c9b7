import Testing
@testable import Scheduler

/// The `restarted` journal event in the pure fold, and `restart`'s choice of tasks.
struct RestartStateTests {
    func task(_ id: String) -> QueueTask {
        QueueTask(id: id, key: "k\(id)", label: "t\(id)", command: "t\(id)", argv: ["/bin/true"], cwd: "/", config: nil, output: nil, submitted: 0)
    }

    func state(_ endings: [TaskStatus?]) -> QueueState {
        var state = QueueState()
        for (index, status) in endings.enumerated() {
            let id = String(index + 1)
            state.apply(.submitted(task(id)))
            guard let status else { continue }
            state.apply(.started(id: id, attempt: 1, device: "cpu", slot: 0, pid: 10, time: 1))
            state.apply(.ended(id: id, attempt: 1, exitCode: status == .succeeded ? 0 : 1, signal: nil, status: status, time: 2))
        }
        return state
    }

    @Test func restartedQueuesAnEndedTaskAgainAndSurvivesCompaction() throws {
        var s = state([.failed, .succeeded])
        s.apply(.restarted(id: "1", env: "env/1-restart-2.env", time: 5))
        #expect(s.queuedCount == 1 && s["1"]?.phase == .queued && s["1"]?.task.environment == "env/1-restart-2.env")
        // Its next attempt is 2; the cursor finds it again.
        #expect(s.nextQueued()?.id == "1" && s["1"]?.attempts == 1)
        var rebuilt = QueueState()
        for event in s.compacted { rebuilt.apply(event) }
        #expect(rebuilt.queuedCount == 1 && rebuilt["1"]?.attempts == 1 && rebuilt["1"]?.task.environment == "env/1-restart-2.env")
        // An open task is not restarted twice.
        s.apply(.restarted(id: "1", env: nil, time: 6))
        #expect(s.queuedCount == 1)
        // The event reads back from its journal line.
        let line = QueueEvent.restarted(id: "1", env: "env/x.env", time: 7).json.bytes(newline: false)
        #expect(try QueueEvent.decode(line: line[...]) == .restarted(id: "1", env: "env/x.env", time: 7))
    }

    @Test func restartChoosesFailedCancelledAndTimedOutButSucceededOnlyWithW() throws {
        var s = state([.failed, .succeeded, .timedOut, nil, nil])
        s.apply(.cancelled(id: "4", time: 3))
        #expect(try RestartCommand.choose(.init(failed: true), s) == ["1", "3", "4"])
        #expect(throws: UsageError.self) { try RestartCommand.choose(.init(ids: ["2"]), s) }
        #expect(try RestartCommand.choose(.init(ids: ["2"], overwrite: true), s) == ["2"])
        #expect(throws: UsageError.self) { try RestartCommand.choose(.init(ids: ["5"]), s) }
        #expect(throws: UsageError.self) { try RestartCommand.choose(.init(ids: ["9"]), s) }
        #expect(throws: UsageError.self) { try RestartCommand.parse([]) }
        #expect(try RestartCommand.parse(["3", "-w", "--queue", "q"]) == .init(ids: ["3"], overwrite: true, queue: "q"))
    }
}
