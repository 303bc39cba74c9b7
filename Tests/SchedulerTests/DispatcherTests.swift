import Testing
@testable import Scheduler

struct DispatcherTests {
    func launches(_ dispatcher: inout Dispatcher) -> [(task: Int, slot: Slot)] {
        var result: [(task: Int, slot: Slot)] = []
        while let launch = dispatcher.nextLaunch() { result.append(launch) }
        return result
    }

    @Test func fillsEverySlotInTaskOrder() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.gpu(0), 0), (.gpu(1), 1), (.gpu(2), 0), (.gpu(3), 1)]))
        let first = launches(&d)
        #expect(first.map(\.task) == [0, 1])
        #expect(Set(first.map(\.slot.device)) == [.gpu(1), .gpu(3)])
        #expect(d.runningCount == 2)
        #expect(d.nextLaunch() == nil)
    }

    @Test func anEndedTaskFreesItsSlotForTheNext() {
        var d = Dispatcher(taskCount: 3, pool: SlotPool(capacities: [(.cpu, 1)]))
        let first = launches(&d)
        #expect(first.map(\.task) == [0])
        #expect(d.taskEnded(0, status: .succeeded) == 1)
        let second = launches(&d)
        #expect(second.map(\.task) == [1])
        #expect(second[0].slot == first[0].slot)
        #expect(d.taskEnded(1, status: .failed) == 2)
        _ = launches(&d)
        #expect(d.taskEnded(2, status: .succeeded) == 3)
        #expect(d.isDone)
        #expect(d.count(of: .succeeded) == 2)
        #expect(d.count(of: .failed) == 1)
    }

    @Test func neverMoreRunningThanSlots() {
        var d = Dispatcher(taskCount: 100, pool: SlotPool(capacities: [(.gpu(0), 2), (.gpu(1), 3)]))
        var running: [Int] = []
        var perDevice: [Device: Int] = [:]
        var ended = 0
        while !d.isDone {
            for launch in launches(&d) {
                running.append(launch.task)
                perDevice[launch.slot.device, default: 0] += 1
                #expect(perDevice[.gpu(0), default: 0] <= 2)
                #expect(perDevice[.gpu(1), default: 0] <= 3)
            }
            #expect(running.count <= 5)
            // End the oldest running task.
            let task = running.removeFirst()
            guard case .running(let slot) = d.states[task] else { Issue.record("task \(task) not running"); return }
            perDevice[slot.device, default: 0] -= 1
            ended += 1
            #expect(d.taskEnded(task, status: .succeeded) == ended)
        }
        #expect(ended == 100)
    }

    @Test func spreadsLoadAcrossDevices() {
        var pool = SlotPool(capacities: [(.gpu(0), 2), (.gpu(1), 2)])
        let devices = (0..<4).compactMap { _ in pool.acquire()?.device }
        #expect(devices == [.gpu(0), .gpu(1), .gpu(0), .gpu(1)])
        #expect(pool.acquire() == nil)
    }

    @Test func stopStartsNothingMoreAndListsTheRest() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.cpu, 2)]))
        _ = launches(&d)
        d.stop()
        d.taskEnded(0, status: .interrupted)
        #expect(d.nextLaunch() == nil)
        #expect(!d.isDone)
        d.taskEnded(1, status: .interrupted)
        #expect(d.isDone)
        #expect(d.notStarted == 2..<5)
    }

    @Test func upcomingNamesTheNextTasksUntilStopped() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.cpu, 2)]))
        #expect(d.upcoming(2) == 0..<2)
        _ = launches(&d)
        #expect(d.upcoming(2) == 2..<4)
        #expect(d.upcoming(9) == 2..<5)
        d.stop()
        #expect(d.upcoming(2).isEmpty)
    }

    @Test func decodesWaitStatus() {
        #expect(TaskExit(waitStatus: 0) == TaskExit(exitCode: 0))
        #expect(TaskExit(waitStatus: 3 << 8) == TaskExit(exitCode: 3))
        #expect(TaskExit(waitStatus: 9) == TaskExit(signal: 9))
        #expect(TaskExit(exitCode: 0).status(timedOut: false, interrupted: false) == .succeeded)
        #expect(TaskExit(exitCode: 1).status(timedOut: false, interrupted: false) == .failed)
        #expect(TaskExit(signal: 15).status(timedOut: true, interrupted: false) == .timedOut)
        #expect(TaskExit(exitCode: 0).status(timedOut: false, interrupted: true) == .interrupted)
    }
}
