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

    /// Written digit by digit, the date computed from the day number (`civil`) rather
    /// than by gmtime_r: a run writes four of these per task.
    static func appendISO8601(_ nanoseconds: Int64, to out: inout [UInt8]) {
        let (seconds, fraction) = floorDivision(nanoseconds, 1_000_000_000)
        let (year, month, day, secondOfDay) = civil(seconds)
        DecimalText.append(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        DecimalText.appendTwoDigits(month, to: &out)
        out.append(UInt8(ascii: "-"))
        DecimalText.appendTwoDigits(day, to: &out)
        out.append(UInt8(ascii: "T"))
        DecimalText.appendTwoDigits(secondOfDay / 3600, to: &out)
        out.append(UInt8(ascii: ":"))
        DecimalText.appendTwoDigits(secondOfDay / 60 % 60, to: &out)
        out.append(UInt8(ascii: ":"))
        DecimalText.appendTwoDigits(secondOfDay % 60, to: &out)
        out.append(UInt8(ascii: "."))
        let milliseconds = fraction / 1_000_000
        out.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        DecimalText.appendTwoDigits(milliseconds % 100, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The UTC date and second of the day of `seconds` since the epoch, from the day
    /// number (Howard Hinnant's civil_from_days): no time zone is ever consulted.
    static func civil(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64) {
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay)
    }

    /// Quotient and remainder rounded toward minus infinity (instants before 1970 too).
    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// A run id that sorts by time and is unique per process, in UTC whatever TZ says:
    /// 20261121T141446Z-12345.
    public static func runID(_ nanoseconds: Int64 = wall(), pid: Int32 = getpid()) -> String {
        let (year, month, day, secondOfDay) = civil(floorDivision(nanoseconds, 1_000_000_000).0)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        DecimalText.append(year, width: 4, to: &out)
        DecimalText.appendTwoDigits(month, to: &out)
        DecimalText.appendTwoDigits(day, to: &out)
        out.append(UInt8(ascii: "T"))
        DecimalText.appendTwoDigits(secondOfDay / 3600, to: &out)
        DecimalText.appendTwoDigits(secondOfDay / 60 % 60, to: &out)
        DecimalText.appendTwoDigits(secondOfDay % 60, to: &out)
        out.append(UInt8(ascii: "Z"))
        out.append(UInt8(ascii: "-"))
        DecimalText.append(Int64(pid), to: &out)
        return String(decoding: out, as: UTF8.self)
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

    static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
