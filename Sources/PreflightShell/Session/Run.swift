import PreflightEngine
import PreflightChecks

/// One named run: either trained here (a Trainer holds its network, optimiser and records) or external
/// (its records were imported from a file, see `import`; there is no network to train).
public final class Run {
    public let name: String
    /// The configuration it was built from, with `layers` resolved. For an external run, what the record
    /// gives (Preflight's defaults elsewhere: show the run with `layersText`, `activationText`… instead).
    public let config: RunConfig
    /// Network, optimiser, shuffling generator and every record; nil for an external run.
    /// Code that trains or reads weights checks `isExternal` (or uses `trainable(for:)`) first.
    public let trainer: Trainer!
    /// The imported record of an external run; nil for a run trained here.
    public let record: RecordedRun?
    /// The findings of the latest `check` on this run (empty until checked).
    public var findings: [Finding] = []
    /// The data the run was built on (recorded when it starts): its static checks and the export read this,
    /// never whatever data the session holds later. nil only for runs of old save files whose data were unknown.
    public var data: RunData?
    /// Epochs recorded when `findings` were made (an export remakes findings that training has outdated).
    public var findingsEpochs = 0
    /// The first batch as `check` probed it before training (no update): the run's first-batch record until
    /// training records its own (`firstBatch`).
    public var probedFirstBatch: FirstBatchRecord?
    /// The run's network (weights as trained so far); external runs have none.
    public var network: Network { trainer.network }

    public init(name: String, config: RunConfig, trainer: Trainer) {
        self.name = name; self.config = config; self.trainer = trainer; self.record = nil
    }

    /// Builds fresh weights from `config` (whose layers are resolved).
    public convenience init(name: String, config: RunConfig) {
        let sizes = config.layers!
        let net = config.makeNetwork()
        net.initialize(config.initializers(layerCount: sizes.count - 1), seed: config.seed)
        let t = Trainer(network: net, optimizer: config.optimizer, seed: config.seed)
        config.configure(t)
        self.init(name: name, config: config, trainer: t)
    }

    /// An external run: the records of an imported file, under `name` (which may differ from the record's).
    public init(name: String, record: RecordedRun) {
        self.name = name; self.record = record; self.trainer = nil; self.config = record.runConfig
    }

    public var isExternal: Bool { record != nil }

    // The records, wherever they live.
    public var epochs: [EpochRecord] { record?.epochs ?? trainer.epochs }
    /// The first-batch record: an external run's, else training's own, else the probe of a `check` before training.
    public var firstBatch: FirstBatchRecord? { record != nil ? record!.firstBatch : trainer.firstBatch ?? probedFirstBatch }
    public var nonFinite: NonFiniteEvent? { record != nil ? record!.nonFinite : trainer.nonFinite }

    /// Hidden layers with records (the network's, or the record's hidden statistics).
    public var hiddenCount: Int {
        guard let r = record else { return config.layers!.count - 2 }
        if let s = r.sizes { return s.count - 2 }
        return max(r.firstBatch?.hidden.count ?? 0, r.epochs.map(\.hidden.count).max() ?? 0)
    }

    /// Weight layers with records.
    public var weightLayerCount: Int {
        guard let r = record else { return config.layers!.count - 1 }
        if let s = r.sizes { return s.count - 1 }
        return max(r.firstBatch?.gradNorms.count ?? 0, r.epochs.map(\.layers.count).max() ?? 0)
    }

    // What the tables show; an external run shows the record's own words ("-" where it has none).
    public var layersText: String {
        if let r = record {
            if let s = r.sizes { return s.map(String.init).joined(separator: "-") }
            if let m = r.model { return m.count > 40 ? String(m.prefix(39)) + "…" : m }
            let dense = r.layers.filter { $0.type == "dense" || $0.type == "conv" }.count
            return r.layers.isEmpty ? "-" : "\(r.layers.count) modules, \(dense) dense/conv"
        }
        return config.layers!.map(String.init).joined(separator: "-")
    }
    public var activationText: String { record.map { $0.activation ?? "-" } ?? config.activationText }
    public var initText: String { record.map { $0.initText ?? "-" } ?? config.initDescription }
    public var optimizerText: String {
        guard let r = record else { return config.optimizer.description + config.remediesText }
        if let o = r.knownOptimizer { return o.description }
        return [r.optimizerName, r.learningRate.map(formatParam)].compactMap { $0 }.joined(separator: " ").nonEmpty ?? "-"
    }
    public var batchSeedText: String {
        guard let r = record else { return "\(config.batch) / \(config.seed)" }
        return "\(r.batch.map(String.init) ?? "-") / \(r.seed.map(String.init) ?? "-")"
    }
    /// "pytorch 2.3.0, from study.py" for an external run.
    public var originText: String? {
        guard let r = record else { return nil }
        return "external: \(r.engineText) record from \(r.file)"
    }

    /// The trainer, or an error saying why an external run cannot do `what` ("train", "overfit"…).
    func trainable(for what: String) throws -> Trainer {
        if let r = record {
            throw CommandError("\(what): run \(name) is external (a \(r.engine) record imported from \(r.file)): it has no weights here; `run NAME` starts a Preflight run")
        }
        return trainer
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// What a run was trained (or probed) on: how the data were asked for, their shape and the range of the
/// network's inputs over the training set, after scaling.
public struct RunData: Equatable, Codable, Sendable {
    public var spec: DataSpec
    public var classes: Int
    public var features: Int
    /// Smallest and largest network input over the training set.
    public var inputMin: Double
    public var inputMax: Double

    public init(spec: DataSpec, classes: Int, features: Int, inputMin: Double, inputMax: Double) {
        self.spec = spec; self.classes = classes; self.features = features; self.inputMin = inputMin; self.inputMax = inputMax
    }

    /// The description of loaded data.
    public init(_ d: LoadedData) {
        self.init(spec: d.spec, classes: d.classes, features: d.features, inputMin: d.inputMin, inputMax: d.inputMax)
    }
}
