import PreflightEngine
import PreflightChecks

/// One named training run: the configuration it was built from, its engine state and records.
public final class Run {
    public let name: String
    /// The configuration it was built from, with `layers` resolved.
    public let config: RunConfig
    /// Network, optimiser, shuffling generator and every record.
    public let trainer: Trainer
    /// The findings of the latest `check` on this run (empty until checked).
    public var findings: [Finding] = []
    /// Epochs recorded when `findings` were made (an export remakes findings that training has outdated).
    public var findingsEpochs = 0
    /// The first batch as `check` probed it before training (no update): the run's first-batch record until
    /// training records its own (`firstBatch`).
    public var probedFirstBatch: FirstBatchRecord?
    /// The first-batch record: training's own, else the probe of a `check` before training.
    public var firstBatch: FirstBatchRecord? { trainer.firstBatch ?? probedFirstBatch }
    /// The run's network (weights as trained so far).
    public var network: Network { trainer.network }

    public init(name: String, config: RunConfig, trainer: Trainer) {
        self.name = name; self.config = config; self.trainer = trainer
    }

    /// Builds fresh weights from `config` (whose layers are resolved).
    public convenience init(name: String, config: RunConfig) {
        let sizes = config.layers!
        let net = Network(sizes: sizes, activation: config.activation)
        net.initialize(config.initializers(layerCount: sizes.count - 1), seed: config.seed)
        self.init(name: name, config: config, trainer: Trainer(network: net, optimizer: config.optimizer, seed: config.seed))
    }
}
