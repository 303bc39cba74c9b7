import Testing
@testable import Scheduler

struct DispatcherTests {
    func launches(_ dispatcher: inout Dispatcher) -> [(task: Int, slot: Slot)] {
        var result: [(task: Int, slot: Slot)] = []
        while let launch = dispatcher.nextLaunch() { result.append((launch.task, launch.slots[0])) }
        return result
    }

    /// The pool's per-device counts: what the placer reads to choose a GPU.
    @Test func poolCountsFreeSlotsPerDevice() throws {
        var pool = SlotPool(capacities: [(.gpu(0), 1), (.gpu(1), 0), (.cpu, 2), (.gpu(2), 1), (.gpu(0), 1)])
        #expect(pool.devices == [.gpu(0), .cpu, .gpu(2)])
        #expect(pool.count == 5)
        #expect(pool.capacity(of: .gpu(0)) == 2 && pool.capacity(of: .gpu(1)) == 0 && pool.capacity(of: .cpu) == 2)
        // Taken outside #require, whose expansion cannot call a mutating method.
        let takenFirst = pool.take(on: .gpu(0)), takenSecond = pool.take(on: .gpu(0))
        let first = try #require(takenFirst), second = try #require(takenSecond)
        #expect(first.number != second.number)
        let gpu0Again = pool.take(on: .gpu(0)), gpu1 = pool.take(on: .gpu(1))
        #expect(gpu0Again == nil && gpu1 == nil)
        #expect(pool.free(on: .gpu(0)) == 0 && pool.free(on: .gpu(2)) == 1 && pool.hasFreeGPUSlot)
        let takenThird = pool.take(on: .gpu(2)), takenCPU = pool.take(on: .cpu)
        let third = try #require(takenThird)
        #expect(takenCPU?.device == .cpu)
        #expect(!pool.hasFreeGPUSlot && pool.free(on: .cpu) == 1)
        pool.release(second)
        #expect(pool.free(on: .gpu(0)) == 1 && pool.hasFreeGPUSlot)
        let busyThird = pool.acquire(number: third.number)
        #expect(busyThird == nil)
        pool.release(third)
        let freedThird = pool.acquire(number: third.number)
        #expect(freedThird == third && pool.free(on: .gpu(2)) == 0)
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
            guard case .running(let slots) = d.states[task], let slot = slots.first else { Issue.record("task \(task) not running"); return }
            perDevice[slot.device, default: 0] -= 1
            ended += 1
            #expect(d.taskEnded(task, status: .succeeded) == ended)
        }
        #expect(ended == 100)
    }

    @Test func spreadsLoadAcrossDevices() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.gpu(0), 2), (.gpu(1), 2)]))
        let devices = (0..<4).compactMap { _ in d.nextLaunch()?.slots.first?.device }
        #expect(devices == [.gpu(0), .gpu(1), .gpu(0), .gpu(1)])
        #expect(d.nextLaunch() == nil)
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
        #expect(d.notStarted == Array(2..<5))
    }

    @Test func upcomingNamesTheNextTasksUntilStopped() {
        var d = Dispatcher(taskCount: 5, pool: SlotPool(capacities: [(.cpu, 2)]))
        #expect(d.upcoming(2) == [0, 1])
        _ = launches(&d)
        #expect(d.upcoming(2) == [2, 3])
        #expect(d.upcoming(9) == [2, 3, 4])
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

    // MARK: - Resources

    /// Launches as (task, GPU positions) until nothing fits.
    func placed(_ d: inout Dispatcher, now: UInt64 = 0) -> [(task: Int, gpus: [Int])] {
        var result: [(task: Int, gpus: [Int])] = []
        while let launch = d.nextLaunch(now: now) {
            result.append((launch.task, launch.slots.compactMap { if case .gpu(let p) = $0.device { return p }; return nil }))
        }
        return result
    }

    @Test func aTwoGPUTaskFirstInLineReservesItsGPUsUntilItStarts() {
        // Two GPUs with one slot each; task 2 needs both, tasks behind it need one.
        var d = Dispatcher(demands: [.gpu(), .gpu(), .gpu(2), .gpu(), .gpu()], pool: SlotPool(capacities: [(.gpu(0), 1), (.gpu(1), 1)]))
        #expect(placed(&d).map(\.task) == [0, 1])
        d.taskEnded(0, status: .succeeded)
        #expect(placed(&d).isEmpty, "GPU 0 is free, but task 3 must not pass task 2 there")
        d.taskEnded(1, status: .succeeded)
        let next = placed(&d)
        #expect(next.map(\.task) == [2] && next.first?.gpus.sorted() == [0, 1])
        d.taskEnded(2, status: .succeeded)
        #expect(placed(&d).map(\.task) == [3, 4])
    }

    @Test func aSmallTaskBackfillsAGPUTheBigTaskDoesNotWaitFor() {
        // Task 0 needs 35000 MiB, which no GPU has free now: it reserves GPU 0 (the most
        // free memory). Task 1 fits on GPU 1 and starts there; nothing starts on GPU 0.
        var d = Dispatcher(demands: [.gpu(memoryMiB: 35000), .gpu(memoryMiB: 4096), .gpu(memoryMiB: 4096)],
                           pool: SlotPool(capacities: [(.gpu(0), 2), (.gpu(1), 2)]), memory: MemoryGate())
        d.recordMemory([0: .init(totalMiB: 40960, usedMiB: 10960), 1: .init(totalMiB: 40960, usedMiB: 30960)], now: 1)
        let first = placed(&d, now: 1)
        #expect(first.map(\.task) == [1, 2] && first.allSatisfy { $0.gpus == [1] })
        #expect(d.waitingOnMemory, "the first in line has slots and waits for memory only")
        d.recordMemory([0: .init(totalMiB: 40960, usedMiB: 1000), 1: .init(totalMiB: 40960, usedMiB: 35056)], now: 2)
        let next = placed(&d, now: 2)
        #expect(next.first?.task == 0 && next.first?.gpus == [0])
    }

    @Test func cpuAndGPUTasksWaitInTheirOwnQueues() {
        var d = Dispatcher(demands: [.cpu(), .cpu(), .gpu(), .gpu()], pool: SlotPool(capacities: [(.gpu(0), 1), (.cpu, 1)]))
        let first = placed(&d)
        #expect(first.map(\.task) == [0, 2], "the second CPU task waits without holding up the GPU task")
        d.taskEnded(2, status: .succeeded)
        #expect(placed(&d).map(\.task) == [3])
        d.taskEnded(0, status: .succeeded)
        #expect(placed(&d).map(\.task) == [1])
    }

    @Test func anMPITaskTakesItsProcessCountOfCPUSlots() {
        var d = Dispatcher(demands: [.cpu(3), .cpu(), .cpu()], pool: SlotPool(capacities: [(.cpu, 4)]))
        let first = d.nextLaunch()
        #expect(first?.task == 0 && first?.slots.count == 3)
        #expect(d.nextLaunch()?.task == 1)
        #expect(d.nextLaunch() == nil, "one CPU slot left, none free")
    }

    @Test func memoryPromisesStopDoubleBookingBetweenReadings() {
        var d = Dispatcher(demands: Array(repeating: .gpu(memoryMiB: 4096), count: 3),
                           pool: SlotPool(capacities: [(.gpu(0), 3)]), memory: MemoryGate())
        #expect(d.wantsMemoryReading)
        #expect(placed(&d).isEmpty, "no reading yet: nothing is known to fit")
        d.recordMemory([0: .init(totalMiB: 10000, usedMiB: 0)], now: 1)
        #expect(placed(&d, now: 1).map(\.task) == [0, 1], "10000 MiB free holds two promises of 4096, not three")
        #expect(d.waitingOnMemory)
        // The two tasks allocated what they asked: the promises are made good, and the
        // reading now shows the memory as used.
        d.recordMemory([0: .init(totalMiB: 10000, usedMiB: 8192)], now: 2)
        #expect(placed(&d, now: 2).isEmpty)
        d.taskEnded(0, status: .succeeded)
        d.recordMemory([0: .init(totalMiB: 10000, usedMiB: 4096)], now: 3)
        #expect(placed(&d, now: 3).map(\.task) == [2])
    }

    @Test func aPromiseLapsesAfterTheSettleTime() {
        var gate = MemoryGate(settle: 100)
        gate.record([0: .init(totalMiB: 1000, usedMiB: 0)], now: 0)
        gate.promise(task: 0, slots: [Slot(number: 0, device: .gpu(0))], amountMiB: 600, now: 0)
        #expect(gate.free(0, now: 50) == 400)
        #expect(gate.free(0, now: 150) == 1000, "the task never allocated: after settle the memory counts as free")
    }
}
