/// Free GPU memory as multirun counts it: what nvidia-smi last reported, less what tasks
/// launched recently have been promised but not yet allocated. Without the promises, two
/// tasks placed between two readings would both see the same free memory (the
/// double-booking race of poll-based schedulers). Pure: readings come from outside.
public struct MemoryGate: Sendable {
    public struct Reading: Equatable, Sendable {
        public var totalMiB: Int
        public var usedMiB: Int
        public init(totalMiB: Int, usedMiB: Int) {
            self.totalMiB = totalMiB
            self.usedMiB = usedMiB
        }
    }

    /// Memory promised to a task on one GPU, until the GPU's used memory has grown by that
    /// much since the launch, the task ends, or `settle` has passed.
    private struct Promise {
        let task: Int
        let gpu: Int
        let amountMiB: Int
        let usedAtLaunch: Int
        let at: UInt64
    }

    /// How long a promise lasts when the task never allocates all of it (nanoseconds).
    public let settle: UInt64
    public private(set) var readings: [Int: Reading] = [:]
    private var promises: [Promise] = []

    public init(settle: UInt64 = 60_000_000_000) { self.settle = settle }

    /// Free MiB on GPU `gpu` (a position in the device list); nil when it has no reading.
    public func free(_ gpu: Int, now: UInt64) -> Int? {
        guard let reading = readings[gpu] else { return nil }
        let promised = promises.lazy.filter { $0.gpu == gpu && now < $0.at + settle }.map(\.amountMiB).reduce(0, +)
        return reading.totalMiB - reading.usedMiB - promised
    }

    /// A fresh nvidia-smi reading; promises the tasks have since made good are dropped.
    public mutating func record(_ readings: [Int: Reading], now: UInt64) {
        self.readings = readings
        promises.removeAll { promise in
            guard now < promise.at + settle, let used = readings[promise.gpu]?.usedMiB else { return true }
            return used - promise.usedAtLaunch >= promise.amountMiB
        }
    }

    /// Whether a placement waits on a reading: the first GPU task in line asks for memory
    /// and some GPU has a free slot for it.
    public static func wantsReading(firstInLine demand: Demand?, pool: SlotPool) -> Bool {
        guard let demand, demand.memoryMiB > 0 else { return false }
        return pool.hasFreeGPUSlot
    }

    /// Promises a task just placed on `slots` its memory on each of its GPUs.
    public mutating func promise(task: Int, slots: [Slot], amountMiB: Int, now: UInt64) {
        guard amountMiB > 0 else { return }
        for gpu in slots.compactMap(\.device.gpuPosition) {
            promises.append(Promise(task: task, gpu: gpu, amountMiB: amountMiB, usedAtLaunch: readings[gpu]?.usedMiB ?? 0, at: now))
        }
    }

    public mutating func taskEnded(_ task: Int) { promises.removeAll { $0.task == task } }
}
