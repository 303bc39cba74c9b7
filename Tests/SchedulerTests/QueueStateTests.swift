import Foundation
import Testing
@testable import Scheduler

struct QueueStateTests {
    func task(_ id: String) -> QueueTask {
        QueueTask(id: id, key: "k" + id, label: "configs/\(id).yaml", command: "runone -c configs/\(id).yaml",
                  argv: ["/bin/true"], cwd: "/", config: nil, output: nil, submitted: 1)
    }

    /// A new queue folder under the temporary folder; the caller removes it.
    func scratchQueue(_ name: String) throws -> QueueFolder {
        let folder = QueueFolder(path: NSTemporaryDirectory() + "\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try folder.prepare()
        return folder
    }

    func fold(_ events: [QueueEvent]) -> QueueState {
        var state = QueueState()
        for event in events { state.apply(event) }
        return state
    }

    @Test func lifecycleAndCounts() {
        var state = fold([.submitted(task("a")), .submitted(task("b")), .submitted(task("c"))])
        #expect(state.nextQueued()?.id == "a")
        state.apply(.started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 10, time: 2))
        #expect(state.nextQueued()?.id == "b")
        state.apply(.ended(id: "a", attempt: 1, exitCode: 0, signal: nil, status: .succeeded, time: 3))
        state.apply(.cancelled(id: "b", time: 4))
        #expect(state.nextQueued()?.id == "c")
        #expect(state.counts["succeeded"] == 1 && state.counts["cancelled"] == 1 && state.queuedCount == 1)
        #expect(state.endedCount == 1 && state.activeCount == 2)
    }

    /// The env file a task uses survives the journal line and a compaction; a line
    /// without it (written before environments were captured) means the daemon's own.
    @Test func theEnvironmentFileOfATaskIsJournaled() {
        var captured = task("a")
        captured.environment = "env/1.env"
        let line = QueueEvent.submitted(captured).json.bytes(newline: false)
        #expect(QueueEvent(line: line[...]) == .submitted(captured))
        #expect(String(decoding: line, as: UTF8.self).contains("\"env\":\"env/1.env\""))
        #expect(fold([.submitted(captured)]).compacted == [.submitted(captured)])
        let old = QueueEvent.submitted(task("b")).json.bytes(newline: false)
        guard case .submitted(let parsed)? = QueueEvent(line: old[...]) else { Issue.record("no event"); return }
        #expect(parsed.environment == nil)
        #expect(EnvironmentFile.path("env/1.env", in: QueueFolder(path: "/q")) == "/q/env/1.env")
        for bad in ["env/../journal.jsonl", "/etc/passwd", "env/", "env/..", "logs/1-1.log"] {
            #expect(EnvironmentFile.path(bad, in: QueueFolder(path: "/q")) == nil, "\(bad)")
        }
    }

    @Test func replayingEventsChangesNothing() {
        let events: [QueueEvent] = [
            .submitted(task("a")), .started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 10, time: 2),
            .interrupted(id: "a", attempt: 1, time: 3), .started(id: "a", attempt: 2, device: "cpu", slot: 1, pid: 11, time: 4),
            .ended(id: "a", attempt: 2, exitCode: 0, signal: nil, status: .succeeded, time: 5),
        ]
        let once = fold(events)
        let twice = fold(events + events)
        #expect(twice["a"]?.phase == once["a"]?.phase)
        #expect(twice["a"]?.attempts == 2)
        #expect(twice.counts == once.counts)
        // An end for an attempt that is not the running one is ignored.
        var state = fold(Array(events.prefix(4)))
        state.apply(.ended(id: "a", attempt: 1, exitCode: 1, signal: nil, status: .failed, time: 9))
        #expect(state.runningCount == 1)
    }

    @Test func interruptedRequeuesAndCancelWhileRunningEndsCancelled() {
        var state = fold([.submitted(task("a")), .started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 10, time: 2),
                          .interrupted(id: "a", attempt: 1, time: 3)])
        #expect(state.nextQueued()?.id == "a")
        #expect(state["a"]?.attempts == 1)
        state.apply(.started(id: "a", attempt: 2, device: "cpu", slot: 0, pid: 11, time: 4))
        state.apply(.cancelled(id: "a", time: 5))
        #expect(state.runningCount == 1)
        state.apply(.ended(id: "a", attempt: 2, exitCode: nil, signal: 15, status: .failed, time: 6))
        #expect(state["a"]?.phase == .cancelled(at: 6))
    }

    @Test func compactionKeepsEveryTaskState() {
        let state = fold([
            .submitted(task("a")), .submitted(task("b")), .submitted(task("c")), .submitted(task("d")),
            .started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 10, time: 2),
            .ended(id: "a", attempt: 1, exitCode: 3, signal: nil, status: .failed, time: 3),
            .started(id: "b", attempt: 1, device: "gpu1", slot: 1, pid: 11, time: 4),
            .interrupted(id: "b", attempt: 1, time: 5), .started(id: "b", attempt: 2, device: "gpu1", slot: 1, pid: 12, time: 6),
            .cancelled(id: "c", time: 7),
        ])
        let again = fold(state.compacted)
        for id in ["a", "b", "c", "d"] {
            #expect(again[id]?.phase == state[id]?.phase, "\(id)")
            #expect(again[id]?.attempts == state[id]?.attempts, "\(id)")
        }
        #expect(again.counts == state.counts)
    }

    @Test func journalSkipsATornLastLineAndReadsItOnceComplete() throws {
        let folder = try scratchQueue("journal")
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let journal = Journal(folder: folder)
        try journal.append([.submitted(task("a")), .submitted(task("b"))])
        let full = QueueEvent.lines([.submitted(task("c"))])
        let handle = try #require(FileHandle(forWritingAtPath: folder.journal))
        handle.seekToEndOfFile()
        handle.write(Data(full.prefix(20)))
        #expect(try journal.readAll().count == 2, "the torn third line is not an event")
        #expect(try journal.readNew().count == 0)
        handle.write(Data(full.dropFirst(20)))
        try handle.close()
        #expect(try journal.readNew() == [.submitted(task("c"))])
    }

    @Test func statusSummaryListsTheQueueHeadAndTheLastFailures() {
        var events: [QueueEvent] = (1...30).map { .submitted(task("t\($0)")) }
        for n in 1...14 {
            events.append(.started(id: "t\(n)", attempt: 1, device: "cpu", slot: 0, pid: 100, time: 5))
            events.append(.ended(id: "t\(n)", attempt: 1, exitCode: n % 2 == 0 ? 0 : 3, signal: nil,
                                 status: n % 2 == 0 ? .succeeded : .failed, time: 6))
        }
        events.append(.started(id: "t15", attempt: 1, device: "gpu0", slot: 1, pid: 200, time: 7))
        let summary = StatusSummary(fold(events))
        #expect(summary.running.map(\.id) == ["t15"] && summary.running.first?.device == "gpu0")
        #expect(summary.queued.map(\.id) == (16...25).map { "t\($0)" }, "the next ten, in order")
        #expect(summary.failureCount == 7)
        #expect(summary.failures.map(\.id) == ["t1", "t3", "t5", "t7", "t9", "t11", "t13"], "oldest first")
        #expect(summary.failures.allSatisfy { $0.exitCode == 3 && $0.status == .failed })
        #expect(summary.counts["queued"] == 15 && summary.counts["succeeded"] == 7)
    }

    @Test func statusSnapshotHoldsOnlyForTheJournalItWasFoldedFrom() throws {
        let folder = try scratchQueue("snapshot")
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let journal = Journal(folder: folder)
        try journal.append([.submitted(task("a")), .submitted(task("b")),
                            .started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 7, time: 1),
                            .ended(id: "a", attempt: 1, exitCode: nil, signal: 9, status: .failed, time: 2)])
        let summary = StatusSummary(fold(try journal.readAll()))
        summary.writeSnapshot(folder, mark: journal.mark)
        #expect(StatusSummary.readSnapshot(folder) == summary, "a round trip keeps every field")
        try journal.append([.submitted(task("c"))])
        #expect(StatusSummary.readSnapshot(folder) == nil, "the journal grew: the snapshot is stale")
        try journal.compact(to: [.submitted(task("a"))])
        summary.writeSnapshot(folder, mark: Journal.Mark(inode: 0, size: Int(FileIO.size(folder.journal))))
        #expect(StatusSummary.readSnapshot(folder) == nil, "another file of the same size is another journal")
    }

    /// Submits keep the snapshot equal to a fold of the journal, so `status` never folds
    /// while cron feeds a queue with no scheduler; a snapshot they cannot vouch for is left.
    @Test func submitsCarryTheSnapshotForward() throws {
        let folder = try scratchQueue("advance")
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let journal = Journal(folder: folder)
        func submit(_ ids: [String]) throws {
            let tasks = ids.map(task)
            let span = try #require(try journal.append(tasks.map { .submitted($0) }))
            StatusSummary.advanceSnapshot(folder, submitted: tasks, from: span.before, to: span.after)
        }
        func folded() throws -> StatusSummary { StatusSummary(fold(try journal.readAll())) }
        try submit(["a", "b", "c"])
        #expect(StatusSummary.readSnapshot(folder) == (try folded()), "a new journal starts a snapshot")
        try submit((1...12).map { "n\($0)" })
        #expect(StatusSummary.readSnapshot(folder) == (try folded()), "only the head of the queue is listed")
        #expect(StatusSummary.readSnapshot(folder)?.queued.count == StatusSummary.listed)
        try journal.append([.started(id: "a", attempt: 1, device: "cpu", slot: 0, pid: 7, time: 1)])
        try submit(["z"])
        #expect(StatusSummary.readSnapshot(folder) == nil, "the snapshot missed an event: status must fold")
    }

    @Test func compactionRewritesTheJournalAndKeepsLateAppends() throws {
        let folder = try scratchQueue("compact")
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let journal = Journal(folder: folder)
        var events: [QueueEvent] = []
        for i in 0..<50 {
            events += [.submitted(task("t\(i)")), .started(id: "t\(i)", attempt: 1, device: "cpu", slot: 0, pid: 7, time: 1)]
            if i % 2 == 0 { events.append(.ended(id: "t\(i)", attempt: 1, exitCode: 0, signal: nil, status: .succeeded, time: 2)) }
        }
        try journal.append(events)
        let state = fold(try journal.readAll())
        // Another process appends after our read and before the compaction.
        try Journal(folder: folder).append([.submitted(task("late"))])
        let late = try journal.compact(to: state.compacted)
        #expect(late == [.submitted(task("late"))])
        let reread = fold(try Journal(folder: folder).readAll())
        #expect(reread.count == 51)
        #expect(reread.counts["succeeded"] == 25 && reread.counts["running"] == 25 && reread.queuedCount == 1)
        // One line per submit, plus started+ended for the 25 done and started for the 25 running.
        #expect(try FileIO.read(folder.journal).split(separator: UInt8(ascii: "\n")).count == 51 + 25 * 2 + 25)
    }

    @Test func groupWritableQueueFolderIsRefused() throws {
        let path = NSTemporaryDirectory() + "queue-perm-\(getpid())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o770)
        #expect(throws: UsageError("queue folder '\(path)' is writable by group or others (mode 770); run chmod 700 \(path)")) {
            try QueueFolder(path: path).prepare()
        }
    }

    // MARK: - Priorities and dependencies in the queue

    func task(_ id: String, priority: Int = 0, after: [String] = []) -> QueueTask {
        var made = task(id)
        made.priority = priority
        made.after = after
        return made
    }

    /// Higher priority first, ties in submission order; a task waits until everything it
    /// runs after succeeded, and is blocked for good once one ended otherwise.
    @Test func orderedQueuedHonoursPriorityAndReadiness() {
        var state = fold([.submitted(task("1")), .submitted(task("2", priority: 3)), .submitted(task("3", priority: 3)),
                          .submitted(task("4", priority: 9, after: ["1"])), .submitted(task("5", after: ["2", "9"]))])
        #expect(state.hasOrdering)
        #expect(state.orderedQueued(from: 0, cpuPool: nil) == [1, 2, 0])
        #expect(state.readiness(state["4"]!.task) == .waiting)
        #expect(state.blockedByDependencies().map(\.id) == ["5"] && state.blockedByDependencies().first?.by == "9")
        state.apply(.started(id: "1", attempt: 1, device: "cpu", slot: 0, pid: 5, time: 2))
        state.apply(.ended(id: "1", attempt: 1, exitCode: 0, signal: nil, status: .succeeded, time: 3))
        #expect(state.orderedQueued(from: 0, cpuPool: nil) == [3, 1, 2])
        state.apply(.dependencyFailed(id: "5", after: "9", time: 4))
        #expect(state["5"]?.phase == .ended(.dependencyFailed, exitCode: nil, signal: nil, at: 4))
        #expect(state.counts["dependency_failed"] == 1 && state.endedCount == 2)
        // Only a queued task can end so: a running one is left alone.
        state.apply(.started(id: "2", attempt: 1, device: "cpu", slot: 0, pid: 6, time: 5))
        state.apply(.dependencyFailed(id: "2", after: "1", time: 6))
        if case .running = state["2"]!.phase {} else { Issue.record("a running task was ended by a dependency event") }
        state.apply(.ended(id: "2", attempt: 1, exitCode: 1, signal: nil, status: .failed, time: 7))
        #expect(state.readiness(task("6", after: ["2"])) == .blocked(by: "2"))
        // A compaction keeps priorities, dependencies and dependency_failed, with no attempt.
        let refolded = fold(state.compacted)
        #expect(refolded["4"]?.task.priority == 9 && refolded["4"]?.task.after == ["1"])
        #expect(refolded["5"]?.phase == .ended(.dependencyFailed, exitCode: nil, signal: nil, at: 4) && refolded["5"]?.attempts == 0)
        #expect(refolded.counts == state.counts)
    }

    /// Journal lines with priority and after read back; ids that are not ids are refused.
    @Test func priorityAndAfterJournalLines() throws {
        var written = task("7", priority: -4, after: ["1", "2"])
        written.overwrite = true
        let line = QueueEvent.submitted(written).json.bytes(newline: false)
        guard case .submitted(let read) = try QueueEvent.decode(line: line[...]) else { Issue.record("not a submit"); return }
        #expect(read.priority == -4 && read.after == ["1", "2"] && read.overwrite)
        let event = QueueEvent.dependencyFailed(id: "7", after: "2", time: 9)
        #expect(try QueueEvent.decode(line: event.json.bytes(newline: false)[...]) == event)
        let bad = #"{"e":"submitted","id":"8","key":"k","argv":["/bin/true"],"after":["../x"],"t":1}"#
        #expect(throws: QueueDecodeError.self) { try QueueEvent.decode(line: Array(bad.utf8)[...]) }
        let huge = #"{"e":"submitted","id":"8","key":"k","argv":["/bin/true"],"priority":99999999999999999999,"t":1}"#
        #expect(throws: QueueDecodeError.self) { try QueueEvent.decode(line: Array(huge.utf8)[...]) }
    }
}

