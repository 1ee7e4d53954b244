import XCTest
import PreflightEngine
@testable import PreflightShell

/// `set memory`: the share of the machine's memory a network may use, judged by `TrainingMemory.bytes`.
final class MemoryBudgetTests: XCTestCase {
    /// A budget between the old estimate (4 × parameters + 2 × widths × max(batch, 500) floats, which left out
    /// the training step's copies of layer 0) and what training allocates: the network is refused, with the
    /// estimate named; a budget just above the estimate accepts it.
    func testTheBudgetCountsTheTrainingStepsCopiesOfLayerZero() throws {
        let c = Captured(dataDir: nil)
        let layers = [4000, 256, 10], batch = 16
        var params = 0
        for i in 0..<(layers.count - 1) { params += layers[i] * layers[i + 1] + layers[i + 1] }
        let old = Double(params * 4 + layers.reduce(0, +) * 500 * 2) * 4
        let now = TrainingMemory.bytes(sizes: layers, batch: batch)
        XCTAssertGreaterThan(now, old * 1.2, "the step's copies of layer 0 alone add 3 × 4000 × 256 floats")
        let phys = Double(physicalMemory())
        c.session.memoryFraction = (old + now) / 2 / phys
        XCTAssertThrowsError(try c.session.checkMemory(layers: layers, batch: batch)) { e in
            XCTAssertTrue("\(e)".contains("needs about"), "\(e)")
        }
        c.session.memoryFraction = now * 1.01 / phys
        XCTAssertNoThrow(try c.session.checkMemory(layers: layers, batch: batch))
    }
}
