import Synchronization

/// Floats handed out by `alignedFloats` since the process started: every float buffer of the network, the
/// optimiser, the training step, the evaluation workspace and the sparse input lists comes from there.
/// The memory tests compare `TrainingMemory.bytes` with it.
let allocatedFloatCounter = Atomic<Int>(0)

/// What training a network allocates, item by item, so that the shell can refuse a network that would not fit
/// (`set memory`) before it is built. The data set itself is not counted (it is loaded before).
public enum TrainingMemory {
    /// Floats `alignedFloats` has allocated in this process so far (they are never counted down when freed).
    public static var floatsAllocated: Int { allocatedFloatCounter.load(ordering: .relaxed) }

    /// Bytes of the buffers that training a network of `sizes` with batches of `batch` allocates: 4 bytes per
    /// Float or Int32.
    /// - The network's parameters and gradients, the optimiser's two state arrays (all four always allocated).
    /// - The training step (Step.swift), with hidden layers: each partition's copy of its columns of layer 0's
    ///   weights and of the optimiser's two state arrays (3 × the layer's weights, kept for an epoch) and a
    ///   chunk of that layer's gradient; per thread (two, whatever the thread count) the batch, the output
    ///   probabilities and delta, a gathered hidden delta; the hidden outputs, deltas and each later layer's
    ///   partial pre-activations of both partitions; with `dropout`, each hidden output's mask and masked copy;
    ///   with `clip`, each partition's whole gradient of its columns of layer 0 (made before any update).
    /// - With `batchNorm`: γ and β of every hidden unit (with their gradients and optimiser state, 4 × 2 floats a
    ///   unit), the running mean and variance, the step's normalised pre-activations (batch × units) and six
    ///   per-unit statistics.
    /// - The evaluation workspace (Passes.swift): rows `max(evalBatch, batch)` of the input and of every layer,
    ///   and batch normalisation's per-unit scale and shift (2 × the widest layer).
    /// - With `sparse` (the inputs' layer-0 path for data below `InputPath.sparseBelowDensity`), the lists of the
    ///   non-zero inputs (Sparse.swift) of both threads' batches and of the workspace: by row and by feature,
    ///   an index and a value each, with room for half the inputs (they start at a quarter and double once at
    ///   most while a batch is below 40% non-zero).
    public static func bytes(sizes: [Int], batch: Int, evalBatch: Int = 500, dropout: Bool = false, clip: Bool = false,
                             batchNorm: Bool = false, sparse: Bool = true) -> Double {
        precondition(sizes.count >= 2)
        let b = Double(max(batch, 1)), n0 = Double(sizes[0]), classes = Double(sizes.last!)
        let hidden = sizes.dropFirst().dropLast().map(Double.init)
        var params = 0.0
        for l in 0..<(sizes.count - 1) { params += Double(sizes[l] * sizes[l + 1] + sizes[l + 1]) }
        var floats = 4 * params                                   // parameters, gradients, optimiser m and v
        if let n1 = hidden.first {
            floats += 3 * n0 * n1                                 // the partitions' copies of layer 0: w, m, v
            let c = sizes[1] >= 32 && sizes[1] % 16 == 0 ? (sizes[1] / 2) / 16 * 16 : sizes[1] / 2
            for cols in [c, sizes[1] - c] where cols > 0 {        // each partition's chunk of layer 0's gradient
                floats += Double(inputGradientChunkRows(inputs: sizes[0], columns: cols) * cols)
            }
        }
        // Per thread: batch, labels, output and its delta, output bias, a hidden delta gathered into rows.
        floats += 2 * (b * n0 + b + 2 * b * classes + classes + b * (hidden.max() ?? 1))
        let later = hidden.dropFirst().reduce(0, +)               // hidden layers after the first
        floats += b * hidden.reduce(0, +)                         // hidden outputs
        floats += b * (hidden.first ?? 0) + b * later              // hidden deltas
        floats += 2 * b * (later + (hidden.isEmpty ? 0 : classes)) // partial pre-activations of layers 1…
        if dropout { floats += 2 * b * hidden.reduce(0, +) }       // masks and masked outputs
        if clip, let n1 = hidden.first { floats += n0 * n1 }      // layer 0's whole gradient, both partitions
        if batchNorm {
            let units = hidden.reduce(0, +)
            floats += 4 * 2 * units + 2 * units                    // γ, β (+ gradients, m, v); running mean, variance
            floats += b * units + 6 * units                        // normalised pre-activations; per-unit statistics
        }
        let w = max(Double(evalBatch), b)
        floats += w * (n0 + 1 + Double(sizes.dropFirst().reduce(0, +)))   // evaluation input, labels, layers
        floats += 2 * Double(sizes.max()!)                        // evaluation's normalisation scale and shift
        if sparse {
            func lists(_ rows: Double) -> Double { (rows + 1) + (n0 + 1) + 4 * max(rows * n0 / 2, n0) }
            floats += 2 * lists(b) + lists(w)
        }
        return floats * 4
    }
}
