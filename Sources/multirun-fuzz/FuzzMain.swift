import CLibFuzzer
import Foundation
import FuzzReaders
import Glibc
import Scheduler

// The fuzz target over multirun's readers of outside input (docs/FUZZING.md).
//
// Built with `-Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING` it is a libFuzzer target; the
// reader comes from MULTIRUN_FUZZ_READER (yaml, json, argv, commands, journal,
// exit-record, next-id, npy). Built plainly it is a seeded driver that needs no libFuzzer:
//     multirun-fuzz READER [--runs N] [--seconds S] [--seed N] CORPUS_DIR...
// which runs every corpus file, then seeded mutations of them, and on a crash leaves the
// input in ./fuzz-crash-READER. `multirun-fuzz time FILE...` prints how long the config
// reader takes on each file (best of 5, in ms): bench/parse.sh.
//     multirun-fuzz time-set [--passes N] [--what parse|read] [--each] PATH...
// times the reader on many files (folders: their files, sorted) and prints the best pass's
// total and the median, p90 and largest per-file time (best of N passes): bench/yaml.sh.

private func complain(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

#if FUZZING
private let reader: FuzzReader = {
    let name = getenv("MULTIRUN_FUZZ_READER").map { String(cString: $0) } ?? ""
    guard let reader = FuzzReader(rawValue: name) else {
        let names = FuzzReader.allCases.map(\.rawValue).joined(separator: ", ")
        complain("multirun-fuzz: set MULTIRUN_FUZZ_READER to one of \(names)")
        exit(2)
    }
    return reader
}()

/// One input, as libFuzzer calls it (its library also links to the symbol by name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    reader.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main
struct FuzzEntry {
    static func main() {
        _ = reader
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
    }
}
#else
/// The input being read, for the crash handler (written before each run; read only there).
nonisolated(unsafe) private var crashFile: [CChar] = []
nonisolated(unsafe) private var currentInput: UnsafeMutableBufferPointer<UInt8> = .allocate(capacity: 1 << 16)
nonisolated(unsafe) private var currentCount = 0

@main
struct FuzzDriver {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "time" {
            for path in arguments.dropFirst() { time(path) }
            return
        }
        if arguments.first == "time-set" {
            timeSet(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "dump" {
            for path in arguments.dropFirst() { dump(path) }
            return
        }
        let names = FuzzReader.allCases.map(\.rawValue).joined(separator: ", ")
        guard let first = arguments.first, let reader = FuzzReader(rawValue: first) else {
            complain("usage: multirun-fuzz READER [--runs N] [--seconds S] [--seed N] CORPUS_DIR...  (READER: \(names))")
            exit(2)
        }
        arguments.removeFirst()
        var runs = Int.max, seconds = 10.0, seed: UInt64 = 1
        var folders: [String] = []
        while !arguments.isEmpty {
            let word = arguments.removeFirst()
            let value = arguments.first
            switch word {
            case "--runs": runs = value.flatMap { Int($0) } ?? runs; arguments.removeFirst()
            case "--seconds": seconds = value.flatMap { Double($0) } ?? seconds; arguments.removeFirst()
            case "--seed": seed = value.flatMap { UInt64($0) } ?? seed; arguments.removeFirst()
            default: folders.append(word)
            }
        }
        let corpus = folders.flatMap(readFolder)
        crashFile = Array("fuzz-crash-\(reader.rawValue)".utf8CString)
        for signal in [SIGSEGV, SIGILL, SIGBUS, SIGABRT, SIGFPE, SIGTRAP] { Glibc.signal(signal, saveInputAndDie) }
        var mutator = SeededMutator(seed: seed)
        let start = now()
        var done = 0
        var inputs = corpus.makeIterator()
        while done < runs && now() - start < seconds {
            let input: [UInt8]
            if let next = inputs.next() {
                input = next
            } else if corpus.isEmpty {
                input = mutator.mutate([], other: [])
            } else {
                input = mutator.mutate(corpus[mutator.below(corpus.count)], other: corpus[mutator.below(corpus.count)])
            }
            currentCount = min(input.count, currentInput.count)
            _ = currentInput.initialize(from: input.prefix(currentCount))
            reader.run(input)
            done += 1
        }
        let elapsed = now() - start
        print("multirun-fuzz \(reader.rawValue): \(done) inputs (\(corpus.count) from the corpus) in \(Int(elapsed)) s, \(Int(Double(done) / max(elapsed, 0.001))) exec/s, 0 crashes")
    }

    /// Best of five readings of the config at `path`, with the reader's verdict.
    static func time(_ path: String) {
        guard let bytes = readFile(path) else { complain("multirun-fuzz: cannot read \(path)"); exit(2) }
        var best = Double.infinity
        var verdict = "ok"
        for _ in 0..<5 {
            let start = now()
            do { try InputReaders.config(bytes, path: path) } catch { verdict = error.message }
            best = min(best, now() - start)
        }
        print("\(path): \(bytes.count) bytes read in \(Int((best * 1e6).rounded()) / 1000).\(String(Int((best * 1e6).rounded()) % 1000 + 1000).dropFirst()) ms (\(verdict))")
    }

    /// `time-set`: every file read once per pass, in order, each reading timed alone (the
    /// clock is read around the one call; the value is freed after the clock stops, as a
    /// caller that keeps it would). Per file: the best of the passes; the set: the best
    /// pass's sum. Untimed readings come first, up to the first file the reader accepts,
    /// so one-time costs (the Swift runtime's, tables built on first use) land in no
    /// file's time. `--what parse`: `ConfigParser.parse` (decode and parse into a value:
    /// what PyYAML's `yaml.load` does); `--what read`: the read multirun makes of a config
    /// for a runner of its own (`ConfigSchema.check` without runone's schema: positions of
    /// every key, `resources`, the content hash). `--each` prints, before the summary,
    /// `file<TAB>best ns<TAB>bytes<TAB>ok|refused<TAB>path` per file and
    /// `pass<TAB>n<TAB>total ns` per pass, for bench/yaml.sh.
    static func timeSet(_ words: [String]) {
        var words = words
        var passes = 3, each = false, what = "parse"
        var paths: [String] = []
        while !words.isEmpty {
            let word = words.removeFirst()
            switch word {
            case "--passes":
                guard let value = words.first.flatMap({ Int($0) }), value >= 1 else { complain("multirun-fuzz: --passes needs a number >= 1"); exit(2) }
                passes = value; words.removeFirst()
            case "--what":
                guard let value = words.first, value == "parse" || value == "read" else { complain("multirun-fuzz: --what is parse or read"); exit(2) }
                what = value; words.removeFirst()
            case "--each": each = true
            default:
                var info = stat()
                if stat(word, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                    paths += readFolderNames(word).map { word + "/" + $0 }
                } else {
                    paths.append(word)
                }
            }
        }
        guard !paths.isEmpty else {
            complain("usage: multirun-fuzz time-set [--passes N] [--what parse|read] [--each] FILE|FOLDER...")
            exit(2)
        }
        let files: [[UInt8]] = paths.map { path in
            guard let bytes = readFile(path) else { complain("multirun-fuzz: cannot read \(path)"); exit(2) }
            return bytes
        }
        let dialects = paths.map(ConfigParser.dialect(of:))
        /// One reading: its time in seconds and the reader's refusal, if it refused.
        func read(_ index: Int) -> (Double, String?) {
            let start: Double
            if what == "parse" {
                start = now()
                do {
                    let value = try ConfigParser.parse(bytes: files[index], dialect: dialects[index], source: paths[index])
                    return (withExtendedLifetime(value) { now() } - start, nil)
                } catch {
                    return (now() - start, error.description)
                }
            } else {
                start = now()
                do {
                    let checked = try ConfigSchema.check(files[index], path: paths[index], runone: false)
                    return (withExtendedLifetime(checked) { now() } - start, nil)
                } catch {
                    return (now() - start, error.message)
                }
            }
        }
        // Untimed: files in order until the reader has accepted one (or all refused).
        for index in files.indices where read(index).1 == nil { break }
        var best = [Double](repeating: .infinity, count: files.count)
        var refusals = [String?](repeating: nil, count: files.count)
        var totals: [Double] = []
        for _ in 0..<passes {
            var total = 0.0
            for index in files.indices {
                let (seconds, refusal) = read(index)
                best[index] = min(best[index], seconds)
                refusals[index] = refusal
                total += seconds
            }
            totals.append(total)
        }
        func ns(_ seconds: Double) -> Int { Int((seconds * 1e9).rounded()) }
        func ms(_ seconds: Double) -> String {
            let micro = Int((seconds * 1e6).rounded())
            return "\(micro / 1000).\(String(micro % 1000 + 1000).dropFirst())"
        }
        if each {
            for index in files.indices {
                print("file\t\(ns(best[index]))\t\(files[index].count)\t\(refusals[index] == nil ? "ok" : "refused")\t\(paths[index])")
            }
            for (pass, total) in totals.enumerated() { print("pass\t\(pass + 1)\t\(ns(total))") }
        }
        let refused = refusals.indices.filter { refusals[$0] != nil }
        for index in refused.prefix(3) { print("refused: \(refusals[index]!)") }
        let sorted = best.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let p90 = sorted[max(0, Int((0.9 * Double(sorted.count)).rounded(.up)) - 1)]
        print("\(files.count) files, \(files.reduce(0) { $0 + $1.count }) bytes, \(what), best of \(passes), \(refused.count) refused: "
            + "total \(ms(totals.min()!)) ms, per file median \(ms(median)) ms, p90 \(ms(p90)) ms, max \(ms(sorted.last!)) ms")
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func readFolder(_ folder: String) -> [[UInt8]] {
        readFolderNames(folder).compactMap { readFile(folder + "/" + $0) }
    }

    /// The names in `folder` that do not start with a dot, sorted.
    static func readFolderNames(_ folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return bytes
    }
}

/// Writes the input that crashed to ./fuzz-crash-READER, then dies of the same signal.
private func saveInputAndDie(_ signal: Int32) {
    let fd = open(crashFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        _ = write(fd, currentInput.baseAddress, currentCount)
        close(fd)
    }
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}
#endif

/// `multirun-fuzz dump FILE...`: each config as the reader parses it (JSON, one line a
/// file, or the error), so a release build's reading can be compared with a debug build's.
private func dump(_ path: String) {
    guard let data = FileManager.default.contents(atPath: path) else { print("\(path)\tunreadable"); return }
    do {
        let value = try ConfigParser.parse(bytes: Array(data), dialect: ConfigParser.dialect(of: path), source: path)
        print("\(path)\t\(value.json.encoded())")
    } catch {
        print("\(path)\tERROR \(error)")
    }
}
