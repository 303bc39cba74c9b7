import Foundation
import Glibc
import Testing

/// Stopping multirun: no task process may outlive it, and resume runs what did not finish.
@Suite(.serialized)
struct SignalTests {
    /// Configs a and b finish at once; c and d block (while BLOCK=1), each with a child in
    /// its group and one that escaped into a session of its own.
    func project() throws -> Project {
        let project = try Project()
        // e sorts after the blocking c and d: it is still queued when multirun is stopped.
        for name in ["a", "b", "c", "d", "e"] {
            try project.write("configs/s/\(name).yaml", name == "c" || name == "d" ? "block: true\n" : "block: false\n")
        }
        try project.write("task.sh", """
        #!/bin/sh
        if [ "$BLOCK" = 1 ] && grep -q 'block: true' "$1"; then
            sleep 300 &
            child=$!
            # Reports once it is in a session of its own, out of the task's group.
            setsid sh -c 'echo "escaped|$$" > "$EVENTS"; exec sleep 301' &
            echo "ready|$$|$child" > "$EVENTS"
            wait
        fi
        echo "$1" >> ran.txt
        """, executable: true)
        return project
    }

    func stopWhileRunning(_ signal: Int32, expectedStatus: Int32) throws {
        let project = try project()
        let events = try FIFO(project.path("events"))
        let arguments = ["-c", "s/", "-gpu", "false", "-d", "2", "-check", "false", "--grace", "5", "--runner", "./task.sh {config}"]
        let running = try Launched(Binaries.multirun, arguments, in: project, environment: ["EVENTS": events.path, "BLOCK": "1"])
        // Both blocking tasks are up, each with a child and a process that left its group.
        let ready = try events.lines(until: 4) { $0.hasPrefix("ready") || $0.hasPrefix("escaped") }
        let pids = ready.flatMap { $0.split(separator: "|").dropFirst().compactMap { Int32($0) } }
        #expect(pids.count == 6)
        running.signal(signal)
        let result = running.finish()
        #expect(result.status == expectedStatus)
        for pid in pids { #expect(isDead(pid), "process \(pid) of a task outlived multirun") }
        #expect(result.stdout.contains("The process was interrupted"))
        #expect(result.stdout.contains("2 succeeded"))
        #expect(result.stdout.contains("2 interrupted, 1 not started"))
        // e's log was opened ahead of time; as e never started, it is removed.
        let run = try #require(project.runFolders().last)
        #expect(project.exists("results/runs/\(run)/logs/configs/s/c.yaml.log"))
        #expect(!project.exists("results/runs/\(run)/logs/configs/s/e.yaml.log"))
        #expect(project.exists("results/s/a/multirun-done.json"))
        #expect(!project.exists("results/s/c/multirun-done.json"))
        #expect(!project.exists("results/s/d/multirun-done.json"))

        // The next run skips what completed and runs what was interrupted.
        let again = try multirun(Array(arguments), in: project, environment: ["EVENTS": events.path, "BLOCK": "0"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("Skip configs/s/a.yaml"))
        #expect(again.stdout.contains("Skip configs/s/b.yaml"))
        #expect(again.stdout.contains("Start the process with configs/s/c.yaml"))
        #expect(!again.stdout.contains("Start the process with configs/s/a.yaml"))
        let ran = try project.read("ran.txt").split(separator: "\n").sorted()
        #expect(ran == ["configs/s/a.yaml", "configs/s/b.yaml", "configs/s/c.yaml", "configs/s/d.yaml", "configs/s/e.yaml"])

        // -w runs them all again.
        let forced = try multirun(arguments + ["-w"], in: project, environment: ["EVENTS": events.path, "BLOCK": "0"])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains("5 succeeded"))
    }

    @Test func sigtermLeavesNoProcessAndResumeRerunsInterrupted() throws {
        try stopWhileRunning(SIGTERM, expectedStatus: 143)
    }

    @Test func sigintLeavesNoProcessAndResumeRerunsInterrupted() throws {
        try stopWhileRunning(SIGINT, expectedStatus: 130)
    }

    @Test func sighupStopsLikeTerm() throws {
        try stopWhileRunning(SIGHUP, expectedStatus: 129)
    }

    @Test func timeoutKillsATaskThatIgnoresTerm() throws {
        let project = try Project()
        try project.write("configs/t/slow.yaml", "x: 1\n")
        try project.write("configs/t/quick.yaml", "x: 2\n")
        try project.write("task.sh", """
        #!/bin/sh
        case "$1" in *slow*) trap '' TERM; echo "ready|$$" > "$EVENTS"; sleep 300; echo survived > survived.txt;; esac
        """, executable: true)
        let events = try FIFO(project.path("events"))
        let result = try multirun(["-c", "t/", "-gpu", "false", "-d", "2", "-check", "false", "--timeout", "1", "--grace", "1",
                              "--runner", "./task.sh {config}"], in: project, environment: ["EVENTS": events.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("The process timed out"))
        let rows = try project.latestSummary()
        let slow = try #require(rows.first { ($0["config"] as? String)?.contains("slow") == true })
        #expect(slow["status"] as? String == "timed_out")
        #expect(slow["signal"] as? Int == Int(SIGKILL))
        #expect((slow["duration_s"] as? Double ?? 0) >= 2.0, "TERM was ignored, so KILL came after the grace period")
        #expect((slow["duration_s"] as? Double ?? 99) < 3.5, "the KILL ends the task (and its reaper) at once, within the grace + 1 s")
        let pid = try #require(Int32(try events.nextLine(timeout: 5).split(separator: "|")[1]))
        #expect(isDead(pid))
        #expect(!project.exists("survived.txt"))
        #expect(rows.first { ($0["config"] as? String)?.contains("quick") == true }?["status"] as? String == "succeeded")
    }

    /// A grandchild that left the task's process group (`setsid`) is gone before the next
    /// task starts on the slot, in a one-shot run and in the daemon alike.
    @Test(arguments: [false, true])
    func anEscapedGrandchildEndsWithItsTask(daemon: Bool) throws {
        let project = try Project()
        try project.write("escape.sh", """
        #!/bin/sh
        setsid sh -c 'echo $$ > gc.pid; exec sleep 300' &
        while [ ! -s gc.pid ]; do sleep 0.01; done
        """, executable: true)
        try project.write("check.sh", """
        #!/bin/sh
        if kill -0 "$(cat gc.pid)" 2>/dev/null; then echo alive; else echo gone; fi > check.txt
        """, executable: true)
        try project.write("jobs.txt", "./escape.sh\n./check.sh\n")
        if daemon {
            #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0)
            let result = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
            #expect(result.status == 0, "\(result.stderr)")
        } else {
            let result = try multirun(["--commands", "jobs.txt", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        #expect(try project.read("check.txt") == "gone\n")
        let grandchild = Int32(try project.read("gc.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(grandchild > 0 && isDead(grandchild))
    }

    /// A cancelled task that ignores TERM, and the child it started with setsid, are both
    /// gone once the cancel has taken effect.
    @Test func cancelEndsAnEscapedChildOfATaskThatIgnoresTerm() throws {
        let project = try Project()
        try project.write("stubborn.sh", """
        #!/bin/sh
        trap '' TERM
        setsid sleep 300 &
        echo $! > gc.pid
        exec sleep 300
        """, executable: true)
        try project.write("jobs.txt", "./stubborn.sh\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0)
        let scheduler = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--grace", "0.5", "--exit-when-idle"], in: project)
        #expect(eventually { ((try? project.read("gc.pid")) ?? "").hasSuffix("\n") })
        #expect(try multirun(["cancel", "1"], in: project).status == 0)
        let result = scheduler.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let grandchild = Int32(try project.read("gc.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(grandchild > 0 && isDead(grandchild))
    }

    /// kill -9 of a one-shot multirun: its tasks end with it (their reapers watch it), so an
    /// immediate re-run starts them again without running them twice at once.
    @Test func aKilledRunsTasksEndWithIt() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        try project.write("configs/k/a.yaml", "command: [sh, -c, 'echo \"$$\" > \"$0\"; exec sleep 300', \(events.path)]\n")
        let run = try Launched(Binaries.multirun, ["-c", "k/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        let task = try #require(Int32(try events.nextLine()))
        run.signal(SIGKILL)
        _ = run.finish()
        #expect(eventually { isDead(task) }, "the task outlived the multirun that ran it")
        // Its results folder is free again: a re-run starts it (and is not told it still runs).
        let again = try Launched(Binaries.multirun, ["-c", "k/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        let second = try #require(Int32(try events.nextLine()))
        #expect(second != task)
        again.signal(SIGTERM)
        #expect(again.finish().status == 143)
    }

    /// A config whose task runs (in another one-shot run) is left out by a second run and
    /// by submit, never started beside itself.
    @Test func aRunningConfigIsLeftOutByAnotherRunAndBySubmit() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        try project.write("configs/r/a.yaml", "command: [sh, -c, 'echo start >> {output}/ran.txt; echo up > \"$0\"; read go < \"$1\"', \(events.path), \(gate.path)]\n")
        try project.write("configs/r/b.yaml", "command: \"echo b > {output}/o.txt\"\n")
        let first = try Launched(Binaries.multirun, ["-c", "r/a", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(try events.nextLine() == "up")
        let second = try multirun(["-c", "r/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("Leave out configs/r/a.yaml: it is still running from an earlier or another run (pid "), "\(second.stdout)")
        let rows = try project.latestSummary()
        #expect(rows.first { $0["config"] as? String == "configs/r/a.yaml" }?["status"] as? String == "not_started")
        #expect(rows.first { $0["config"] as? String == "configs/r/b.yaml" }?["status"] as? String == "succeeded")
        let submitted = try multirun(["submit", "-c", "r/a"], in: project)
        #expect(submitted.stdout.contains("Not queued configs/r/a.yaml: still running from an earlier or another run"), "\(submitted.stdout)")
        gate.send(lines: 1)
        #expect(first.finish().status == 0)
        #expect(try project.read("results/r/a/ran.txt") == "start\n")
    }

    /// kill -9 of a task's supervisor: the scheduler ends the task it left behind (it is a
    /// child subreaper) before it queues the attempt again, so the two never overlap.
    @Test func aKilledSupervisorsTaskEndsBeforeTheNextAttempt() throws {
        let project = try Project()
        try project.write("attempt.sh", """
        #!/bin/sh
        if [ "$MULTIRUN_ATTEMPT" = 1 ]; then echo $$ > first.pid; exec sleep 300; fi
        if kill -0 "$(cat first.pid)" 2>/dev/null; then echo alive; else echo gone; fi > second.txt
        """, executable: true)
        try project.write("jobs.txt", "./attempt.sh\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0)
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project)
        #expect(eventually { ((try? project.read("first.pid")) ?? "").hasSuffix("\n") })
        let supervisor = try #require(Int32(try project.read(".multirun/run/1-1.lock").trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(supervisor, SIGKILL)
        let ended = eventually(timeout: 20) { !daemon.process.isRunning }
        if !ended { daemon.signal(SIGKILL) }
        let result = daemon.finish()
        #expect(ended && result.status == 0, "\(result.stderr)")
        #expect(try project.read("second.txt") == "gone\n")
    }
}
