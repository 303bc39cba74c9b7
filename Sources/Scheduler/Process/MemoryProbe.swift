/// Reads each GPU's total and used memory with nvidia-smi, by position in the run's
/// device list, for the free-memory gate.
public struct MemoryProbe: Sendable {
    /// The nvidia-smi UUID of each device position.
    let uuids: [String]

    /// Nil when some device has no nvidia-smi reading (a MIG instance, an entry nvidia-smi
    /// does not list): the gate cannot work there.
    public init?(_ universe: DeviceUniverse) {
        var uuids: [String] = []
        for entry in universe.entries {
            guard let gpu = entry.gpu, !entry.id.hasPrefix("MIG-") else { return nil }
            uuids.append(gpu.uuid)
        }
        self.uuids = uuids
    }

    public func read() throws(UsageError) -> [Int: MemoryGate.Reading] {
        guard let gpus = try GPUInventory.discover() else {
            throw UsageError("nvidia-smi is no longer installed")
        }
        var readings: [Int: MemoryGate.Reading] = [:]
        for (position, uuid) in uuids.enumerated() {
            if let gpu = gpus.first(where: { $0.uuid == uuid }) {
                readings[position] = MemoryGate.Reading(totalMiB: gpu.memoryTotalMiB, usedMiB: gpu.memoryUsedMiB)
            }
        }
        return readings
    }
}
