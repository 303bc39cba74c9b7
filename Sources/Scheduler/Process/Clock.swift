import Glibc

/// Monotonic time for deadlines and durations; wall-clock time for what people read.
public enum Clock {
    /// Nanoseconds on CLOCK_MONOTONIC.
    public static func monotonic() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Nanoseconds since the Unix epoch on CLOCK_REALTIME.
    public static func wall() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// ISO 8601 in UTC with milliseconds, e.g. 2026-11-21T14:14:46.123Z.
    public static func iso8601(_ nanoseconds: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendISO8601(nanoseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Written digit by digit: every task record carries two of these.
    static func appendISO8601(_ nanoseconds: Int64, to out: inout [UInt8]) {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func field(_ value: Int32, _ width: Int, then separator: Unicode.Scalar) {
            DecimalText.append(Int64(value), width: width, to: &out)
            out.append(UInt8(ascii: separator))
        }
        field(parts.tm_year + 1900, 4, then: "-")
        field(parts.tm_mon + 1, 2, then: "-")
        field(parts.tm_mday, 2, then: "T")
        field(parts.tm_hour, 2, then: ":")
        field(parts.tm_min, 2, then: ":")
        field(parts.tm_sec, 2, then: ".")
        field(Int32((nanoseconds % 1_000_000_000) / 1_000_000), 3, then: "Z")
    }

    /// A run id that sorts by time and is unique per process: 20261121-141446-12345.
    public static func runID(_ nanoseconds: Int64 = wall(), pid: Int32 = getpid()) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return "\(parts.tm_year + 1900)\(pad(parts.tm_mon + 1))\(pad(parts.tm_mday))-"
            + "\(pad(parts.tm_hour))\(pad(parts.tm_min))\(pad(parts.tm_sec))-\(pid)"
    }

    /// Seconds as people read them: 0.042s, 12.3s, 3m05s, 2h01m.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return formatFixed(seconds, digits: seconds < 1 ? 3 : 2) + "s" }
        if seconds < 60 { return formatFixed(seconds, digits: 1) + "s" }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole / 60)m\(pad(whole % 60))s" }
        return "\(whole / 3600)h\(pad((whole % 3600) / 60))m"
    }

    static func formatFixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = scaled % Int(scale)
        return "\(whole).\(pad(fraction, digits))"
    }

    static func pad(_ value: Int32, _ width: Int = 2) -> String { pad(Int(value), width) }

    static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
