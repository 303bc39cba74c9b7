import CSystem
import Glibc

/// Delivers SIGCHLD, SIGINT, SIGTERM and SIGHUP as readable events on a file descriptor
/// (signalfd), so the event loop sleeps in poll(2) until the kernel has news.
public final class SignalChannel {
    public static let handled: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGHUP]

    public let fd: Int32

    /// Blocks the handled signals in this thread (and threads it creates later) and ignores
    /// SIGPIPE, so a closed terminal cannot kill the scheduler. Call first thing in main,
    /// before any thread exists: a thread created earlier would still take the signals.
    public static func blockHandledSignals() {
        var mask = handledMask()
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs `body` (a prompt) with SIGINT, SIGTERM and SIGHUP deliverable, so Ctrl-C at
    /// the question ends multirun at once; nothing has started at that point.
    public static func withStopSignalsDeliverable<T>(_ body: () -> T) -> T {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        defer { pthread_sigmask(SIG_BLOCK, &mask, nil) }
        return body()
    }

    public init() throws(SystemError) {
        var mask = Self.handledMask()
        let fd = csystem_signalfd(&mask)
        guard fd >= 0 else { throw SystemError("signalfd", errno: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Every signal that arrived since the last call (SIGCHLD coalesces: reap in a loop).
    /// One read takes up to 8; only a full one is followed by another.
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        var batch = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        while true {
            let count = withUnsafeMutableBytes(of: &batch) { raw in
                csystem_signalfd_read(fd, raw.baseAddress!.assumingMemoryBound(to: Int32.self), 8)
            }
            if count <= 0 { break }
            withUnsafeBytes(of: batch) { raw in signals += raw.bindMemory(to: Int32.self).prefix(Int(count)) }
            if count < 8 { break }
        }
        return signals
    }

    static func handledMask() -> sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in handled { sigaddset(&mask, signal) }
        return mask
    }
}

/// A failed system call, with what we were doing and the errno text.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32
    /// `operation` says it all (the errno's own text would only confuse it).
    public let complete: Bool

    /// A queue file whose content is damaged (not a failed system call): its one-line message.
    public let damage: QueueFileError?

    public init(_ operation: String, errno code: Int32, complete: Bool = false) {
        self.operation = operation
        self.code = code
        self.complete = complete
        damage = nil
    }

    public init(_ damage: QueueFileError) {
        operation = damage.description
        code = EBADMSG
        complete = true
        self.damage = damage
    }

    public var description: String { complete ? operation : "\(operation): \(String(cString: strerror(code)))" }
}
