import Testing
@testable import Scheduler

/// `submit --retries` in the queue's fold: pure, and compaction keeps the retries spent.
struct QueueRetryTests {
    func task(_ id: String, retries: Int, codes: [Int32]? = nil) -> QueueTask {
        var task = QueueTask(id: id, key: "k" + id, label: "l" + id, command: "c" + id, argv: ["/bin/false"], cwd: "/",
                             config: nil, output: nil, submitted: 1)
        task.retry = RetryPolicy(retries: retries, codes: codes)
        return task
    }

    func fold(_ events: [QueueEvent]) -> QueueState {
        var state = QueueState()
        for event in events { state.apply(event) }
        return state
    }

    /// Phase name, attempts, failures of `id` after folding, and again after compaction.
    func check(_ events: [QueueEvent], _ id: String, _ phase: String, attempts: Int, failures: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let state = fold(events)
        for folded in [state, fold(state.compacted)] {
            let entry = folded[id]
            #expect(entry.map { QueueState.name(of: $0.phase) } == phase, sourceLocation: sourceLocation)
            #expect(entry?.attempts == attempts, sourceLocation: sourceLocation)
            #expect(entry?.failures == failures, sourceLocation: sourceLocation)
        }
    }

    @Test func aFailedAttemptIsQueuedAgainUntilTheRetriesAreSpent() {
        var events: [QueueEvent] = [.submitted(task("1", retries: 2))]
        events += [.started(id: "1", attempt: 1, device: "cpu", slot: 0, pid: 9, time: 2),
                   .ended(id: "1", attempt: 1, exitCode: 3, signal: nil, status: .failed, time: 3)]
        check(events, "1", "queued", attempts: 1, failures: 1)
        #expect(fold(events).endedCount == 0)
        // An interrupted attempt (a stop) spends no retry.
        events += [.started(id: "1", attempt: 2, device: "cpu", slot: 0, pid: 9, time: 4), .interrupted(id: "1", attempt: 2, time: 5)]
        check(events, "1", "queued", attempts: 2, failures: 1)
        events += [.started(id: "1", attempt: 3, device: "cpu", slot: 0, pid: 9, time: 6)]
        check(events, "1", "running", attempts: 3, failures: 1)
        events += [.ended(id: "1", attempt: 3, exitCode: nil, signal: 9, status: .failed, time: 7)]
        check(events, "1", "queued", attempts: 3, failures: 2)
        events += [.started(id: "1", attempt: 4, device: "cpu", slot: 0, pid: 9, time: 8),
                   .ended(id: "1", attempt: 4, exitCode: 3, signal: nil, status: .failed, time: 9)]
        check(events, "1", "failed", attempts: 4, failures: 2)
        #expect(fold(events).endedCount == 1)
        // A replayed end (after a crash) changes nothing.
        check(events + [.ended(id: "1", attempt: 4, exitCode: 3, signal: nil, status: .failed, time: 9)], "1", "failed", attempts: 4, failures: 2)
    }

    @Test func retryOnCodesCancelsAndSuccessesAreFinal() {
        let base: [QueueEvent] = [.submitted(task("1", retries: 3, codes: [137])), .started(id: "1", attempt: 1, device: "cpu", slot: 0, pid: 9, time: 2)]
        check(base + [.ended(id: "1", attempt: 1, exitCode: 3, signal: nil, status: .failed, time: 3)], "1", "failed", attempts: 1, failures: 0)
        check(base + [.ended(id: "1", attempt: 1, exitCode: nil, signal: 9, status: .failed, time: 3)], "1", "queued", attempts: 1, failures: 1)
        check(base + [.ended(id: "1", attempt: 1, exitCode: 0, signal: nil, status: .succeeded, time: 3)], "1", "succeeded", attempts: 1, failures: 0)
        // A cancelled task is not retried (compaction keeps a cancel without its attempts, as before).
        let cancelled = fold(base + [.cancelled(id: "1", time: 3), .ended(id: "1", attempt: 1, exitCode: nil, signal: 9, status: .failed, time: 3)])
        #expect(cancelled["1"].map { QueueState.name(of: $0.phase) } == "cancelled" && cancelled["1"]?.failures == 0)
        check([.submitted(task("1", retries: 0))] + base.dropFirst() + [.ended(id: "1", attempt: 1, exitCode: 1, signal: nil, status: .failed, time: 3)],
              "1", "failed", attempts: 1, failures: 0)
    }

    @Test func retriesAndTimeLimitsRoundTripThroughTheJournal() throws {
        var submitted = task("7", retries: 2, codes: [137, 143])
        submitted.resources.time = 7200
        let line = QueueEvent.submitted(submitted).json.bytes(newline: false)
        let decoded = try QueueEvent.decode(line: line[...])
        guard case .submitted(let back) = decoded else { Issue.record("not a submit"); return }
        #expect(back.retry == RetryPolicy(retries: 2, codes: [137, 143]))
        #expect(back.resources.time == 7200)
        let plain = QueueEvent.submitted(task("8", retries: 0)).json.bytes(newline: false)
        #expect(!String(decoding: plain, as: UTF8.self).contains("retr"), "no retry fields without --retries")
        for (field, bad) in [("retries", "1001"), ("retry_on", "\"0\""), ("time_ms", "0")] {
            let text = String(decoding: plain, as: UTF8.self).replacing("\"t\":1", with: "\"t\":1,\"\(field)\":\(bad)")
            #expect(throws: QueueDecodeError.self) { try QueueEvent.decode(line: Array(text.utf8)[...]) }
        }
    }
}
