/// One GPU as nvidia-smi reports it.
public struct GPU: Equatable, Sendable {
    public let index: String
    public let uuid: String
}

/// Finds the machine's GPUs with `nvidia-smi --query-gpu=index,uuid --format=csv,noheader`.
public enum GPUInventory {
    public static let arguments = ["--query-gpu=index,uuid", "--format=csv,noheader"]

    /// The GPUs found; empty when nvidia-smi is not installed. A nvidia-smi that fails or
    /// prints something unexpected is an error, never a silent "no GPUs".
    public static func discover() throws(UsageError) -> [GPU] {
        guard let program = ExecutableLookup.resolve("nvidia-smi") else { return [] }
        let output: ProcessCapture.Output
        do {
            output = try ProcessCapture.run(program, arguments)
        } catch {
            throw UsageError("could not run nvidia-smi to find GPUs (\(error)); to run on the CPU instead, pass -gpu false -d N")
        }
        guard output.exit.exitCode == 0 else {
            let detail = output.stderr.split(separator: "\n").first.map { ": \($0)" } ?? ""
            let how = output.exit.exitCode.map { "exit code \($0)" } ?? "signal \(output.exit.signal ?? 0)"
            throw UsageError("nvidia-smi failed (\(how))\(detail); check the NVIDIA driver, or pass -gpu false -d N to run on the CPU")
        }
        return try parse(output.stdout)
    }

    public static func parse(_ text: String) throws(UsageError) -> [GPU] {
        var gpus: [GPU] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimming(" \t\r")
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",").map { $0.trimming(" \t") }
            guard fields.count == 2, !fields[0].isEmpty, fields[0].allSatisfy(\.isNumber), !fields[1].isEmpty else {
                throw UsageError("nvidia-smi printed an unexpected line \(number + 1): '\(trimmed)' (expected 'index, uuid'); pass -gpu false -d N to run on the CPU")
            }
            gpus.append(GPU(index: fields[0], uuid: fields[1]))
        }
        return gpus
    }
}

extension StringProtocol {
    /// Drops the given characters from both ends.
    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
