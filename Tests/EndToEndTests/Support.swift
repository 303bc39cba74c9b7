import Foundation
import Glibc
import Testing

/// The built executables: `swift test` builds them next to the test bundle.
enum Binaries {
    static let folder: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()
    static var multirun: String { folder + "/multirun" }
    static var runone: String { folder + "/runone" }
}

/// A scratch project folder with configs/, scripts and FIFOs for one test.
final class Project {
    let root: String

    init() throws {
        let template = NSTemporaryDirectory() + "multirun-e2e-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw POSIXError(.EIO) }
        root = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func path(_ relative: String) -> String { root + "/" + relative }

    func write(_ relative: String, _ text: String, executable: Bool = false) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        if executable { chmod(full, 0o755) }
    }

    func read(_ relative: String) throws -> String { try String(contentsOfFile: path(relative), encoding: .utf8) }
    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    /// A fake nvidia-smi in bin/ (put first on PATH) that prints bin/gpus.csv, as
    /// `--query-gpu=index,uuid,pci.bus_id,name,memory.total,memory.used` with nounits would:
    /// `count` GPUs with UUIDs GPU-0000, GPU-1111, ... Each call adds a line to
    /// bin/nvidia-smi.calls. Tests change free memory with `setGPUMemory`.
    func fakeNvidiaSMI(gpus count: Int, totalMiB: Int = 40960, usedMiB: Int = 0, names: [String]? = nil) throws {
        try write("bin/nvidia-smi", """
        #!/bin/sh
        here=$(dirname "$0")
        echo call >> "$here/nvidia-smi.calls"
        cat "$here/gpus.csv"
        """, executable: true)
        try setGPUs((0..<count).map { (index: $0, name: names?[$0] ?? "NVIDIA Fake", totalMiB: totalMiB, usedMiB: usedMiB) })
    }

    func setGPUs(_ gpus: [(index: Int, name: String, totalMiB: Int, usedMiB: Int)]) throws {
        let lines = gpus.map { gpu in
            let i = gpu.index
            return "\(i), GPU-\(i)\(i)\(i)\(i), 00000000:0\(i):00.0, \(gpu.name), \(gpu.totalMiB), \(gpu.usedMiB)"
        }
        try write("bin/gpus.csv", lines.joined(separator: "\n") + "\n")
    }

    var nvidiaSMICalls: Int { ((try? read("bin/nvidia-smi.calls")) ?? "").split(separator: "\n").count }

    var pathWithFakes: String { path("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") }

    /// The one run folder under results/runs (fails if there is not exactly one... or returns the newest).
    func runFolders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path("results/runs"))) ?? []).sorted()
    }

    func latestSummary() throws -> [[String: Any]] {
        guard let run = runFolders().last else { throw POSIXError(.ENOENT) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path("results/runs/\(run)/summary.json")))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["tasks"] as? [[String: Any]] ?? []
    }
}

/// A running multirun (or runone) whose output we can read and signal.
final class Launched {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()

    init(_ executable: String, _ arguments: [String], in project: Project, environment extra: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: project.root)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = project.pathWithFakes
        // A test machine's own GPU restriction must not leak into what tests expect.
        environment["CUDA_VISIBLE_DEVICES"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for exit, then takes what was written. It does not wait for the pipes to
    /// close: a process that outlived multirun while holding them must not hide itself
    /// by stalling the test (our output is far below a pipe's buffer).
    func finish() -> (status: Int32, stdout: String, stderr: String) {
        process.waitUntilExit()
        return (process.terminationStatus, Self.drain(stdoutPipe), Self.drain(stderrPipe))
    }

    private static func drain(_ pipe: Pipe) -> String {
        let fd = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Runs multirun to completion.
func multirun(_ arguments: [String], in project: Project,
              environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    try Launched(Binaries.multirun, arguments, in: project, environment: environment).finish()
}

/// Runs a program in the project with `input` on its stdin, to completion.
func runFeeding(_ input: String, to executable: String, _ arguments: [String], in project: Project) throws -> (status: Int32, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: project.root)
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A FIFO the test holds open read-write: tasks write event lines into it (never blocking,
/// since a reader exists), or read lines from it to wait for the test's go-ahead.
final class FIFO {
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        self.path = path
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EIO) }
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(.EIO) }
    }

    deinit { close(fd) }

    struct TimedOut: Error, CustomStringConvertible {
        let waitingFor: String
        var description: String { "timed out waiting for \(waitingFor)" }
    }

    /// The next line written into the FIFO; waits in poll(2), up to `timeout` seconds.
    func nextLine(timeout: Double = 60) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw TimedOut(waitingFor: "an event line in \(path)") }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, Int32(left * 1000) + 1)
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &chunk, chunk.count)
            if count > 0 { buffer += chunk[..<count] }
        }
    }

    /// Lines until `count` of them satisfy `matching`; returns all lines read.
    func lines(until count: Int, timeout: Double = 60, matching: (String) -> Bool) throws -> [String] {
        var seen: [String] = []
        var matched = 0
        while matched < count {
            let line = try nextLine(timeout: timeout)
            seen.append(line)
            if matching(line) { matched += 1 }
        }
        return seen
    }

    func send(lines count: Int) {
        let text = String(repeating: "go\n", count: count)
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}

/// One task's life as it reported it: `start|pid|cvd|ns|label` and `end|pid|cvd|ns`.
struct Interval {
    var pid: String
    var device: String
    var start: Int64
    var end: Int64
    var label: String
}

/// Pairs start and end events by pid.
func intervals(from lines: [String]) -> [Interval] {
    var open: [String: Interval] = [:]
    var done: [Interval] = []
    for line in lines {
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 4, let ns = Int64(f[3]) else { continue }
        if f[0] == "start" {
            open[f[1]] = Interval(pid: f[1], device: f[2], start: ns, end: .max, label: f.count > 4 ? f[4] : "")
        } else if f[0] == "end", var interval = open.removeValue(forKey: f[1]) {
            interval.end = ns
            done.append(interval)
        }
    }
    return done
}

/// The most intervals that overlap at any instant.
func maxConcurrency(_ intervals: [Interval]) -> Int {
    var points: [(time: Int64, delta: Int)] = []
    for interval in intervals {
        points.append((interval.start, 1))
        points.append((interval.end, -1))
    }
    // At equal times an end comes before a start: touching intervals do not overlap.
    points.sort { $0.time != $1.time ? $0.time < $1.time : $0.delta < $1.delta }
    var current = 0
    var best = 0
    for (_, delta) in points {
        current += delta
        best = max(best, current)
    }
    return best
}

/// Waits until `condition` holds, checking every 10 ms for up to `timeout` seconds: for
/// state only visible in files (a log line, a metadata status) where no event can be
/// awaited. Returns whether it came true.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        usleep(10_000)
    }
    return true
}

/// True if the process is gone or a zombie (exited, awaiting its parent).
func isDead(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// A task script: reports start (with its device), waits for the gate when asked, then
/// reports its end. Arguments: the config path (if any).
let gatedTask = """
#!/bin/sh
echo "start|$$|${CUDA_VISIBLE_DEVICES-unset}|$(date +%s%N)|$1" > "$EVENTS"
if [ -n "$GATE" ]; then read go < "$GATE"; fi
echo "end|$$|${CUDA_VISIBLE_DEVICES-unset}|$(date +%s%N)" > "$EVENTS"
"""
