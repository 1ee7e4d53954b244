import Foundation
import XCTest
import PreflightEngine

/// The training threads' barrier: every round lets each thread see what the other wrote before it, whether
/// the waiting thread caught the other while spinning or had gone to sleep.
final class ThreadBarrierTests: XCTestCase {
    /// Two threads, `rounds` rounds: each writes the round's number in its slot, passes the barrier, checks
    /// the other's slot, passes again. Thread 1 dawdles (1 ms) now and then, so that thread 0 outlasts its
    /// spins and sleeps. Returns the mismatches seen, or nil when the threads did not finish within 60 s.
    private func exchange(spins: Int, rounds: Int, dawdleEvery: Int) -> Int? {
        let barrier = ThreadBarrier(parties: 2, spins: spins)
        nonisolated(unsafe) let slots = UnsafeMutablePointer<Int>.allocate(capacity: 32)   // slots 0 and 16: separate lines
        slots.initialize(repeating: -1, count: 32)
        nonisolated(unsafe) let mismatches = UnsafeMutablePointer<Int>.allocate(capacity: 32)
        mismatches.initialize(repeating: 0, count: 32)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<2 {
            let thread = Thread {
                let mine = slots + 16 * t, theirs = slots + 16 * (1 - t)
                for r in 0..<rounds {
                    if t == 1 && r % dawdleEvery == 0 { usleep(1000) }
                    mine.pointee = r
                    barrier.wait()
                    if theirs.pointee != r { mismatches[16 * t] += 1 }
                    barrier.wait()
                }
                done.signal()
            }
            thread.start()
        }
        let finished = done.wait(timeout: .now() + 60) == .success && done.wait(timeout: .now() + 60) == .success
        // On a timeout the threads may still run: leave their memory alone.
        guard finished else { return nil }
        let total = mismatches[0] + mismatches[16]
        slots.deallocate(); mismatches.deallocate()
        return total
    }

    func testRoundsAreOrderedWhenSpinning() {
        XCTAssertEqual(exchange(spins: ThreadBarrier.defaultSpins, rounds: 20_000, dawdleEvery: 2_000), 0)
    }

    func testRoundsAreOrderedAndSleepersWokenWithoutSpinning() {
        // No spins: every wait that is not the last goes to sleep on the futex and must be woken.
        XCTAssertEqual(exchange(spins: 0, rounds: 5_000, dawdleEvery: 500), 0)
    }

    func testOnePartyNeverWaits() {
        let b = ThreadBarrier(parties: 1, spins: 0)
        for _ in 0..<1_000 { b.wait() }
    }
}
