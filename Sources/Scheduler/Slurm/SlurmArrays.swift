/// How a run's tasks become Slurm job arrays. Pure: no Slurm call, no file.
///
/// Elements of one array share one request (sbatch's options apply to every element), so
/// tasks that ask for different resources go into different arrays: one per *shape*
/// (GPUs per task, MPI processes, time limit). An array may have at most `MaxArraySize` elements
/// (slurm.conf; 1001 by default), so a bigger shape is *bundled*: each element runs `bundle`
/// consecutive tasks one after the other, as slurm-auto-array does. The `%` limits of the
/// arrays add up to at most the run's limit K, so the cluster never runs more of this run's
/// tasks at once than asked.
public enum SlurmArrays {
    /// One element's request: `--gres=gpu:gpus` (none when 0), `--ntasks` (an MPI
    /// config's `np`, launched with srun) and `--time`.
    public struct Shape: Hashable, Sendable {
        public var gpus: Int
        /// Seconds; nil: the partition's default.
        public var timeLimit: Double?
        public var tasks: Int

        public init(gpus: Int, timeLimit: Double?, tasks: Int = 1) {
            self.gpus = gpus
            self.timeLimit = timeLimit
            self.tasks = tasks
        }
    }

    /// One job array: its tasks (indices into the run's tasks, in order), how many run in
    /// each element, and its `%` limit (nil: none).
    public struct Array: Equatable, Sendable {
        public var shape: Shape
        public var tasks: [Int]
        public var bundle: Int
        public var limit: Int?

        /// Elements: `--array=0-(elements-1)`.
        public var elements: Int { (tasks.count + bundle - 1) / bundle }

        /// The run's task indices that element `element` runs, in order.
        public func tasks(ofElement element: Int) -> ArraySlice<Int> {
            let start = element * bundle
            return tasks[min(start, tasks.count)..<min(start + bundle, tasks.count)]
        }
    }

    /// A task's shape: GPU mode gives it `resources.gpus` GPUs (1 unless said), a
    /// `device: cpu` task none; CPU mode (-gpu false) gives no task a GPU.
    /// `resources.time` overrides the run's `--timeout`.
    /// An MPI config (`mpi: {np: k}`) asks `--ntasks=k` and no GPU, as it takes CPU slots
    /// locally.
    public static func shape(_ resources: TaskResources, gpuMode: Bool, timeout: Double?) -> Shape {
        let gpus = !gpuMode || resources.wantsCPUPool ? 0 : (resources.gpus ?? 1)
        return Shape(gpus: gpus, timeLimit: resources.time ?? timeout, tasks: resources.mpiProcesses ?? 1)
    }

    /// The arrays for tasks of these shapes (in task order), under `limit` K tasks at once
    /// (nil: unlimited) and `maxArraySize`. Throws when there are more shapes than K, as
    /// each array must run at least one task at a time.
    public static func plan(_ shapes: [Shape], limit: Int?, maxArraySize: Int) throws(UsageError) -> [Array] {
        var order: [Shape] = []
        var members: [Shape: [Int]] = [:]
        for (index, shape) in shapes.enumerated() {
            if members[shape] == nil { order.append(shape) }
            members[shape, default: []].append(index)
        }
        let cap = max(1, maxArraySize)
        var arrays = order.map { shape -> Array in
            let tasks = members[shape]!
            return Array(shape: shape, tasks: tasks, bundle: (tasks.count + cap - 1) / cap, limit: nil)
        }
        guard let limit else { return arrays }
        if arrays.count > limit {
            throw UsageError("these tasks need \(arrays.count) different Slurm requests (GPUs per task, time limit), one job array each, and each array runs at least one task at a time: give --array-limit \(arrays.count) or more (now \(limit))")
        }
        // Shares of K in proportion to the tasks, at least 1 each, never above K in all.
        var shares = arrays.map { max(1, limit * $0.tasks.count / shapes.count) }
        while shares.reduce(0, +) > limit, let largest = shares.indices.max(by: { shares[$0] < shares[$1] }) { shares[largest] -= 1 }
        var spare = limit - shares.reduce(0, +)
        for index in arrays.indices where spare > 0 {
            let room = arrays[index].elements - shares[index]
            let more = min(max(room, 0), spare)
            shares[index] += more
            spare -= more
        }
        for index in arrays.indices { arrays[index].limit = shares[index] }
        return arrays
    }

    /// sbatch's `--time` for a limit in seconds: `MINUTES:SECONDS`, rounded up to a whole
    /// second. (Slurm keeps limits in minutes and checks them about every 30 s.)
    public static func timeText(_ seconds: Double) -> String {
        let whole = Int(min(seconds.rounded(.up), 1e9))
        return "\(whole / 60):\(whole % 60 < 10 ? "0" : "")\(whole % 60)"
    }

    /// sbatch's options for `array` (before the user's own `--sbatch-arg`s and the script).
    public static func sbatchOptions(_ array: Array, name: String, output: String) -> [String] {
        var words = ["--parsable", "--job-name=\(name)", "--output=\(output)",
                     "--array=0-\(array.elements - 1)" + (array.limit.map { "%\($0)" } ?? "")]
        if array.shape.gpus > 0 { words.append("--gres=gpu:\(array.shape.gpus)") }
        if array.shape.tasks > 1 { words.append("--ntasks=\(array.shape.tasks)") }
        // A bundled element runs its tasks one after the other: its limit is theirs together.
        if let time = array.shape.timeLimit { words.append("--time=\(timeText(time * Double(array.bundle)))") }
        return words
    }
}
