/// Reads each GPU's total and used memory with nvidia-smi, by position in the run's
/// device list, for the free-memory gate.
public struct MemoryProbe: Sendable {
    /// The nvidia-smi UUID of each device position; nil where nvidia-smi has no reading
    /// (a MIG instance, an entry it does not list). `Placement` refuses a memory request
    /// when such a device has slots.
    let uuids: [String?]
    /// `--probe-timeout`: how long nvidia-smi may take (seconds).
    let timeout: Double

    public init(_ universe: DeviceUniverse, timeout: Double = 10) {
        uuids = universe.entries.map { $0.id.hasPrefix("MIG-") ? nil : $0.gpu?.uuid }
        self.timeout = timeout
    }

    /// While tasks run, a reading may keep the loop (its signals, reaping and deadlines)
    /// waiting this long at most (seconds); a slower one counts as no reading.
    static let duringRun = 2.0

    /// `interruptedBy`: the loop's signalfd; a signal stops the reading (`GPUInventory.interrupted`).
    public func read(interruptedBy signals: Int32? = nil) throws(UsageError) -> [Int: MemoryGate.Reading] {
        guard let gpus = try GPUInventory.discover(timeout: min(timeout, Self.duringRun), interruptedBy: signals) else {
            throw UsageError("nvidia-smi is no longer installed")
        }
        var readings: [Int: MemoryGate.Reading] = [:]
        for (position, uuid) in uuids.enumerated() {
            if let uuid, let gpu = gpus.first(where: { $0.uuid == uuid }) {
                readings[position] = MemoryGate.Reading(totalMiB: gpu.memoryTotalMiB, usedMiB: gpu.memoryUsedMiB)
            }
        }
        return readings
    }
}

/// When the free-memory gate reads nvidia-smi, for the one-shot loop and the daemon alike:
/// only while a placement waits on it (a task that asks for memory is first in line and a
/// slot is free). At once the first time; at most every 200 ms after a task ended (its
/// memory may be free now); else after a backoff of 1 s, doubling up to 30 s while the
/// task waits for memory held outside multirun. Never while nothing waits.
final class MemoryPolling {
    let probe: MemoryProbe
    private var readAt: UInt64?
    private var retry: UInt64 = 1_000_000_000
    private var endedSinceRead = false
    private var failing = false
    private static let afterEnd: UInt64 = 200_000_000

    init(probe: MemoryProbe) { self.probe = probe }

    /// Reads when due and `wanted`; returns the readings, or nil when it did not read.
    /// A failing nvidia-smi counts as a reading of nothing, retried after the backoff.
    /// `signals`: the loop's signalfd: a signal stops a reading in progress (no reading; the
    /// loop handles the signal, and the reading is due again at once).
    func readIfDue(wanted: Bool, now: UInt64, signals: Int32? = nil, log: (String) -> Void) -> [Int: MemoryGate.Reading]? {
        guard wanted else { return nil }
        if let readAt {
            let since = now - readAt
            guard (endedSinceRead && since >= Self.afterEnd) || since >= retry else { return nil }
        }
        readAt = now
        endedSinceRead = false
        do {
            let readings = try probe.read(interruptedBy: signals)
            failing = false
            return readings
        } catch where error == GPUInventory.interrupted {
            self.readAt = nil
            return nil
        } catch {
            // Said once while it keeps failing: a hung driver must not fill the log.
            if !failing { log("Cannot read GPU memory (\(error)); waiting, and trying again with a growing pause") }
            failing = true
            return [:]
        }
    }

    /// After a placement round: a start resets the backoff; a reading that let nothing
    /// start while the first in line waits for memory doubles it.
    func placed(launched: Bool, waitingOnMemory: Bool, afterReading read: Bool) {
        if launched || !waitingOnMemory {
            retry = 1_000_000_000
        } else if read {
            retry = min(retry * 2, 30_000_000_000)
        }
    }

    func taskEnded() { endedSinceRead = true }

    /// How long the loop may sleep before the next reading is due (ms), while the first in
    /// line waits for memory; nil when no reading is pending.
    func timeout(now: UInt64, waitingOnMemory: Bool) -> Int32? {
        guard waitingOnMemory else { return nil }
        let due = (readAt ?? 0) + (endedSinceRead ? min(retry, Self.afterEnd) : retry)
        return due <= now ? 0 : Int32((due - now + 999_999) / 1_000_000)
    }
}

/// The sooner of two poll(2) timeouts (-1: none).
func sooner(_ a: Int32, _ b: Int32?) -> Int32 {
    guard let b else { return a }
    return a < 0 ? b : min(a, b)
}
