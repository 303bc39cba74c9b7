/// `--dry-run`: the plan as it would run, and nothing else. No task starts, no marker,
/// attempt record, results or runs folder is written.
enum DryRun {
    static func print(_ plan: RunPlan, placement: Placement, options: Options, to out: Console) {
        out.line("Dry run: nothing is started and nothing is written.")
        for line in plan.notes { out.line(line) }
        let n = plan.tasks.count
        // The first wave, as the dispatcher would place it now (the free-memory gate is not
        // read: a gated task is shown where it would go once its memory is free).
        // With the run's `after:` graph: a task that waits for another is not in the first wave.
        let after = plan.tasks.contains { !$0.after.isEmpty } ? plan.tasks.map(\.after) : []
        var dispatcher = plan.tasks.isEmpty ? nil : Dispatcher(demands: plan.tasks.map(\.demand), pool: placement.pool, after: after)
        var first: [Int: [Slot]] = [:]
        while let (task, slots) = dispatcher?.nextLaunch() { first[task] = slots }
        for (index, task) in plan.tasks.enumerated() {
            if let slots = first[index] {
                let gpu = TaskEnvironment.gpu(for: slots, ids: placement.gpuIDs)
                let command = task.display(task.argv(gpu: gpu, slot: slots[0].number))
                let cvd = placement.gpuIDs == nil || slots[0].device == .cpu ? "" : ", CUDA_VISIBLE_DEVICES=\(gpu)"
                let memory = task.demand.memoryMiB > 0 ? ", once \(ByteSize.describe(mebibytes: task.demand.memoryMiB)) is free" : ""
                out.line("Would start [\(index + 1)/\(n)] on \(TaskEnvironment.deviceName(slots)) slot \(slots[0].number)\(cvd)\(memory): \(command)")
            } else {
                let command = task.display(task.argv(gpu: "{gpu}", slot: 0))
                let waitsFor = task.after.map { plan.tasks[$0].label }
                let until = waitsFor.isEmpty ? "until a slot is free" : "until \(waitsFor.joined(separator: ", ")) succeeded"
                out.line("Would queue [\(index + 1)/\(n)] \(until): \(command)")
            }
        }
        let skipped = plan.skipped.filter { $0.status == .skipped }.count
        let leftOut = plan.skipped.count - skipped
        out.line("Dry run: \(n) to run (\(first.count) at once at the start), \(skipped) skipped as completed, \(leftOut) left out as running elsewhere. Run without --dry-run to start them.")
    }
}
