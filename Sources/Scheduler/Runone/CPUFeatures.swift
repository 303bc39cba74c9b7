import BrainModels
import Glibc

/// Which build of the whole-brain kernels this CPU can run, from Linux's own view: the
/// `flags` line of /proc/cpuinfo lists `avx2` and `fma` only when the CPU has them and the
/// kernel saves their registers. `RUNONE_KERNELS=baseline` (or `avx2`) overrides the
/// choice, for comparing the two builds. (Not a `MULTIRUN_` name: the daemon drops those
/// from a submitter's environment.)
enum CPUFeatures {
    /// The best build for this CPU, or `override` (RUNONE_KERNELS's value); fails, saying
    /// why, when the override names no build or one the CPU cannot run.
    static func instructionSet(override: String? = Environment.value("RUNONE_KERNELS")) -> Result<InstructionSet, KernelChoiceError> {
        let available = bestAvailable()
        guard let asked = override, !asked.isEmpty else { return .success(available) }
        guard let set = InstructionSet(rawValue: asked) else {
            return .failure(KernelChoiceError(message: "RUNONE_KERNELS='\(asked)' names no build; use baseline or avx2 (or unset it)"))
        }
        if set == .avx2 && available != .avx2 {
            return .failure(KernelChoiceError(message: "RUNONE_KERNELS='avx2', but this CPU lacks AVX2 or FMA; use baseline (or unset it)"))
        }
        return .success(set)
    }

    struct KernelChoiceError: Error { let message: String }

    /// AVX2+FMA when /proc/cpuinfo says so (x86-64 only), the baseline otherwise.
    static func bestAvailable() -> InstructionSet {
        #if arch(x86_64)
        return hasAVX2AndFMA(cpuinfo: readCPUInfo()) ? .avx2 : .baseline
        #else
        return .baseline
        #endif
    }

    /// True when the first `flags` line lists both `avx2` and `fma`.
    static func hasAVX2AndFMA(cpuinfo: String) -> Bool {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { return false }
            let flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            return flags.contains("avx2") && flags.contains("fma")
        }
        return false
    }

    /// The start of /proc/cpuinfo (the first processor's lines are in its first 64 KiB).
    static func readCPUInfo() -> String {
        let fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 65_536)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            filled += got
        }
        return String(decoding: bytes[..<filled], as: UTF8.self)
    }
}
