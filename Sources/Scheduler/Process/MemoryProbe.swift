/// Reads each GPU's total and used memory with nvidia-smi, by position in the run's
/// device list, for the free-memory gate.
public struct MemoryProbe: Sendable {
    /// The nvidia-smi UUID of each device position; nil where nvidia-smi has no reading
    /// (a MIG instance, an entry it does not list). `Placement` refuses a memory request
    /// when such a device has slots.
    let uuids: [String?]

    public init(_ universe: DeviceUniverse) {
        uuids = universe.entries.map { $0.id.hasPrefix("MIG-") ? nil : $0.gpu?.uuid }
    }

    public func read() throws(UsageError) -> [Int: MemoryGate.Reading] {
        guard let gpus = try GPUInventory.discover() else {
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
