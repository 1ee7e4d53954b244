import CThreads

/// A barrier for the training threads: each spins briefly (the usual wait is a few microseconds), then
/// sleeps until the last one arrives. On a busy machine a thread whose partner lost its core thus gives its
/// own core away instead of spinning through its time slice (see CThreads).
public final class ThreadBarrier: @unchecked Sendable {
    /// One cache line of its own, so that no other data share the line both threads poll.
    private let state: UnsafeMutablePointer<preflight_barrier>
    public let parties: Int
    /// Pause instructions spun before sleeping.
    public let spins: Int
    /// About 50 µs of pause instructions on current x86 cores (25 ns each on this project's Zen 4).
    public static let defaultSpins = 2_000

    public init(parties: Int, spins: Int = ThreadBarrier.defaultSpins) {
        precondition(parties >= 1 && spins >= 0)
        self.parties = parties
        self.spins = spins
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        state = raw.bindMemory(to: preflight_barrier.self, capacity: 1)
    }
    deinit { UnsafeMutableRawPointer(state).deallocate() }

    /// Returns once all `parties` threads have called it for this round.
    public func wait() { preflight_barrier_wait(state, Int32(parties), Int32(spins)) }
}
