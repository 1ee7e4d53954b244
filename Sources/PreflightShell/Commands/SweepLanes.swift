import Foundation
import PreflightEngine

/// A sweep's runs trained two at a time: the main thread and one helper thread each take the next run not yet
/// started and train it whole on one thread. A run's numbers do not depend on the thread count (the training
/// step does the same arithmetic on one and two threads), so each run records exactly what it would in a
/// sweep that trains one run after the other; the sweep then shows the runs in their own order (see
/// `Commands.sweep`). Everything that touches the session or the console stays on the main thread; the helper
/// only builds and trains its runs.
final class SweepLanes: @unchecked Sendable {
    /// One run of the sweep, in sweep order.
    struct Slot {
        enum State { case waiting, running, finished }
        let name: String
        let config: RunConfig
        var state = State.waiting
        var run: Run?
        /// Seconds its training took (wall time on the thread that trained it).
        var seconds = 0.0
        /// Whether ^C cut it short (its epochs stopped before the planned number).
        var cut = false
        /// The latest progress of its epoch (the main thread draws it while it waits for this run).
        var progress: BatchProgress?
    }

    private let lock = NSCondition()
    private var slots: [Slot]
    private var next = 0
    private var helperRunning = false
    let train: SampleSet, test: SampleSet?, epochs: Int, epsilon: Float

    init(_ runs: [(name: String, config: RunConfig)], train: SampleSet, test: SampleSet?, epochs: Int, epsilon: Float) {
        slots = runs.map { Slot(name: $0.name, config: $0.config) }
        self.train = train; self.test = test; self.epochs = epochs; self.epsilon = epsilon
    }

    var count: Int { slots.count }

    /// A copy of slot `i` as it is now.
    func slot(_ i: Int) -> Slot { lock.lock(); defer { lock.unlock() }; return slots[i] }

    /// The next run not started (marked running), or nil when none is left or ^C was pressed: no run starts
    /// after a ^C, as in a sweep of one run after the other.
    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < slots.count, !Interrupt.requested else { return nil }
        next += 1
        slots[next - 1].state = .running
        return next - 1
    }

    /// Builds run `i` and trains its epochs on the calling thread, on one training thread. `progress` is
    /// called after batches (on this thread), `epochEnded` after each epoch.
    func trainRun(_ i: Int, progress: ((BatchProgress) -> Void)? = nil, epochEnded: () -> Void = {}) {
        let (name, config) = { lock.lock(); defer { lock.unlock() }; return (slots[i].name, slots[i].config) }()
        let t0 = monotonicSeconds()
        let r = Run(name: name, config: config)
        r.trainer.threads = 1
        var cut = false
        for e in 0..<epochs {
            let rec = r.trainer.trainEpoch(train, test: test, batch: config.batch, epsilon: epsilon,
                                           shouldStop: { Interrupt.requested }, progress: progress)
            epochEnded()
            if rec == nil || r.trainer.nonFinite != nil { break }
            if Interrupt.requested { cut = e < epochs - 1 || !rec!.complete; break }
        }
        let seconds = monotonicSeconds() - t0
        lock.lock()
        slots[i].run = r; slots[i].seconds = seconds; slots[i].cut = cut; slots[i].state = .finished
        lock.broadcast()
        lock.unlock()
    }

    /// Starts the helper thread: it takes runs until none is left (or ^C), then ends.
    func startHelper() {
        lock.lock(); helperRunning = true; lock.unlock()
        let t = Thread { [self] in
            leaveSignalsToOtherThreads()   // ^C and the others reach the main thread
            while let i = take() {
                trainRun(i, progress: { p in
                    self.lock.lock(); self.slots[i].progress = p; self.lock.unlock()
                })
            }
            lock.lock(); helperRunning = false; lock.broadcast(); lock.unlock()
        }
        t.stackSize = 1 << 23
        t.start()
    }

    /// Waits until slot `i` has finished, calling `tick` with its latest progress about 20 times a second.
    func wait(for i: Int, tick: (BatchProgress?) -> Void) {
        lock.lock()
        while slots[i].state != .finished {
            _ = lock.wait(until: Date(timeIntervalSinceNow: 0.05))
            let p = slots[i].progress
            lock.unlock()
            tick(p)
            lock.lock()
        }
        lock.unlock()
    }

    /// Waits until the helper thread has ended (after the last run, or soon after a ^C: its run stops at the
    /// next batch boundary and no other starts).
    func waitForHelper() {
        lock.lock()
        while helperRunning { lock.wait() }
        lock.unlock()
    }
}

extension Commands {
    /// Trains a sweep's runs two at a time (see `SweepLanes`) and shows each, in sweep order, through
    /// `show(index, run, training seconds)` on this (the main) thread: a run trained ahead of its turn waits,
    /// with whatever it would print, until the runs before it are shown. The main thread trains runs as well and
    /// draws its own run's progress; while it waits for the run whose turn it is, that run's. Returns whether ^C
    /// stopped the sweep. After a ^C the sweep shows what a sweep of one run after the other shows: the runs
    /// before the first one ^C cut short or kept from starting, that one if it started, and nothing after it
    /// (a run trained ahead of its turn and not shown by then is dropped).
    static func sweepTwoAtATime(_ s: Session, _ runs: [(name: String, config: RunConfig)], data: (train: SampleSet, test: SampleSet?),
                                epochs: Int, epsilon: Float, drawBar: Bool, draw: (Int, BatchProgress) -> Void,
                                show: (Int, Run, Double) -> Void) -> Bool {
        let lanes = SweepLanes(runs, train: data.train, test: data.test, epochs: epochs, epsilon: epsilon)
        var helperStarted = false
        var interrupted = false
        var h = 0   // the run whose turn it is to be shown
        while h < lanes.count {
            let head = lanes.slot(h)
            guard head.state == .finished else {
                // Meanwhile train the next run not started here (the first one before the helper starts, so
                // that the first run's progress is this thread's own), or wait for the run whose turn it is.
                if let k = lanes.take() {
                    if !helperStarted { lanes.startHelper(); helperStarted = true }
                    withoutActuallyEscaping(draw) { draw in
                        lanes.trainRun(k, progress: drawBar ? { p in draw(k, p) } : nil,
                                       epochEnded: { if drawBar { s.console.out("\r\u{1B}[2K") } })
                    }
                } else if head.state == .waiting {
                    interrupted = true   // `take` starts nothing after a ^C
                    break
                } else {
                    lanes.wait(for: h) { p in if drawBar, let p { draw(h, p) } }
                    if drawBar { s.console.out("\r\u{1B}[2K") }
                }
                continue
            }
            let r = head.run!
            // The training threads the run keeps (and `save` records) are those of a sweep of one run after the other.
            r.trainer.threads = s.threads > 0 ? s.threads : Trainer.defaultThreads
            show(h, r, head.seconds)
            h += 1
            if head.cut { interrupted = true; break }
            if Interrupt.requested && (h == lanes.count || lanes.slot(h).state == .waiting) { interrupted = true; break }
        }
        lanes.waitForHelper()
        return interrupted
    }
}
