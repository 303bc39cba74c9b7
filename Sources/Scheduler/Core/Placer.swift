/// Which waiting task of one pool starts next, and on which slots. Pure: no I/O.
///
/// The rule, which neither deadlocks nor starves: each pool (GPUs, CPU) serves its tasks
/// in queue order. When the first task in line does not fit, it reserves what it waits
/// for: on GPUs, the `gpus` GPUs it will take (those that fit its memory, then those with
/// the most free slots, then the most free memory); in the CPU pool, the whole pool.
/// Later GPU tasks may still start on GPUs that are not reserved (looking at most
/// `lookahead` tasks ahead), but nothing new starts on a reserved GPU, so the first task
/// in line starts at the latest once the tasks running on its GPUs now have ended.
/// A launch takes its slots from the pool and promises its memory in the gate.
public enum Placer {
    public static let lookahead = 64

    public enum Decision: Equatable, Sendable {
        case launch(key: Int, slots: [Slot])
        /// Nothing fits now. `onMemory`: the first in line has its slots but not its memory,
        /// so a new memory reading (not a task's end) may be what lets it start.
        case wait(onMemory: Bool)
    }

    /// `waiting`: the pool's queued tasks in order, as (key, demand); all GPU or all CPU.
    public static func next<S: Sequence>(_ waiting: S, pool: inout SlotPool, memory: inout MemoryGate?, now: UInt64) -> Decision
    where S.Element == (key: Int, demand: Demand) {
        var reserved: Set<Int> = []
        var headSeen = false
        var onMemory = false
        // Counted by hand: enumerated() made the runtime build a generic iterator's
        // metadata, with conformance scans, on the way to the first task.
        var seen = 0
        for (key, demand) in waiting {
            if seen > lookahead { break }
            seen += 1
            if demand.isCPU {
                guard pool.free(on: .cpu) >= demand.cpuSlots else { return .wait(onMemory: false) }
                let slots = (0..<demand.cpuSlots).compactMap { _ in pool.take(on: .cpu) }
                return .launch(key: key, slots: slots)
            }
            // Every GPU slot busy: nothing can start or needs a reading, so skip the scan
            // (the loops ask again after every launch, and a daemon's queue is long).
            guard pool.hasFreeGPUSlot else { return .wait(onMemory: false) }
            let gpus = ranked(pool: pool, demand: demand, memory: memory, now: now)
            let open = gpus.filter { !reserved.contains($0.position) && $0.freeSlots > 0 && $0.fits }
            if open.count >= demand.gpus {
                let slots = open.prefix(demand.gpus).compactMap { pool.take(on: .gpu($0.position)) }
                memory?.promise(task: key, slots: slots, amountMiB: demand.memoryMiB, now: now)
                return .launch(key: key, slots: slots)
            }
            if !headSeen {
                headSeen = true
                reserved = Set(gpus.prefix(demand.gpus).map(\.position))
                onMemory = gpus.filter { $0.freeSlots > 0 }.count >= demand.gpus
            }
        }
        return .wait(onMemory: onMemory)
    }

    private struct Candidate {
        let position: Int
        let freeSlots: Int
        let freeMemory: Int
        let fits: Bool
    }

    /// Every GPU of the pool, best first for `demand`.
    private static func ranked(pool: SlotPool, demand: Demand, memory: MemoryGate?, now: UInt64) -> [Candidate] {
        var candidates: [Candidate] = []
        for device in pool.devices {
            guard let position = device.gpuPosition else { continue }
            let free = memory?.free(position, now: now)
            let fits = demand.memoryMiB == 0 || free.map { $0 >= demand.memoryMiB } ?? false
            candidates.append(Candidate(position: position, freeSlots: pool.free(on: device), freeMemory: free ?? Int.max, fits: fits))
        }
        return candidates.sorted { a, b in
            if a.fits != b.fits { return a.fits }
            if a.freeSlots != b.freeSlots { return a.freeSlots > b.freeSlots }
            if a.freeMemory != b.freeMemory { return a.freeMemory > b.freeMemory }
            return a.position < b.position
        }
    }
}
