/// Where a task runs: one GPU (by its position in the device list) or the CPU pool.
public enum Device: Hashable, Sendable, CustomStringConvertible {
    case gpu(Int)
    case cpu

    public var description: String {
        switch self {
        case .gpu(let index): return "gpu\(index)"
        case .cpu: return "cpu"
        }
    }

    /// The GPU's position in the device list; nil for the CPU pool.
    public var gpuPosition: Int? {
        if case .gpu(let position) = self { return position }
        return nil
    }
}

/// One place a task can run. `number` is unique across the pool (0..<count) and is what
/// tasks see as MULTIRUN_SLOT.
public struct Slot: Hashable, Sendable {
    public let number: Int
    public let device: Device
}

/// The slots of every device and which of them are taken. Pure: no I/O.
public struct SlotPool: Sendable {
    public let slots: [Slot]
    private var taken: [Bool]
    /// Per device, by position in `deviceOrder`: a machine has a handful of devices, so a
    /// scan beats hashing, and a [Device: Int] would cost the runtime a conformance scan
    /// on the way to the first task.
    private let deviceOrder: [Device]
    private let capacity: [Int]
    private var busy: [Int]

    /// `capacities` in device order; devices with 0 slots are kept out of the pool.
    public init(capacities: [(device: Device, slots: Int)]) {
        var slots: [Slot] = []
        var capacity: [Int] = []
        var order: [Device] = []
        for (device, count) in capacities where count > 0 {
            if let position = order.firstIndex(of: device) {
                capacity[position] += count
            } else {
                order.append(device)
                capacity.append(count)
            }
            for _ in 0..<count { slots.append(Slot(number: slots.count, device: device)) }
        }
        self.slots = slots
        self.taken = Array(repeating: false, count: slots.count)
        self.capacity = capacity
        self.busy = Array(repeating: 0, count: order.count)
        self.deviceOrder = order
    }

    public var count: Int { slots.count }

    /// The devices that have slots, in the order given.
    public var devices: [Device] { deviceOrder }

    public func capacity(of device: Device) -> Int {
        deviceOrder.firstIndex(of: device).map { capacity[$0] } ?? 0
    }

    public func free(on device: Device) -> Int {
        deviceOrder.firstIndex(of: device).map { capacity[$0] - busy[$0] } ?? 0
    }

    public var hasFreeGPUSlot: Bool { deviceOrder.indices.contains { deviceOrder[$0] != .cpu && busy[$0] < capacity[$0] } }

    /// Takes a free slot on `device`, if it has one.
    public mutating func take(on device: Device) -> Slot? {
        guard let index = slots.indices.first(where: { !taken[$0] && slots[$0].device == device }) else { return nil }
        return mark(index)
    }

    /// Takes slot `number` if it is free: a restarted scheduler puts adopted tasks back
    /// where they run.
    public mutating func acquire(number: Int) -> Slot? {
        guard slots.indices.contains(number), !taken[number] else { return nil }
        return mark(number)
    }

    public mutating func release(_ slot: Slot) {
        precondition(taken[slot.number], "slot \(slot.number) released twice")
        taken[slot.number] = false
        busy[position(of: slot)] -= 1
    }

    private mutating func mark(_ index: Int) -> Slot {
        taken[index] = true
        busy[position(of: slots[index])] += 1
        return slots[index]
    }

    /// Every slot's device is in `deviceOrder`: init put it there.
    private func position(of slot: Slot) -> Int { deviceOrder.firstIndex(of: slot.device)! }
}
