#if canImport(Glibc)
import Glibc
#endif
import PreflightEngine
import PreflightData
import PreflightChecks

/// Options fixed for the life of the process (flags and environment).
public struct SessionOptions {
    /// --data-dir or $PREFLIGHT_DATA.
    public var dataDir: String?
    /// $XDG_CACHE_HOME/preflight or ~/.cache/preflight.
    public var cacheDir: String
    /// May `data mnist|fashion` download when no local copy exists.
    public var allowDownload: Bool = true
    /// --echo: print each command before its output.
    public var echo: Bool = false
    public init(dataDir: String?, cacheDir: String) { self.dataDir = dataDir; self.cacheDir = cacheDir }
}

/// One entry of the command history.
public struct HistoryEntry: Equatable {
    public var line: String
    /// Whether a replay needs it: it changed the session or produced results (not help, history, quit…).
    public var replayable: Bool
    /// Why the line differs from what was typed (`train 4` for a `train 30` stopped by ^C); `history save` writes
    /// it as a comment above the line.
    public var note: String? = nil
    public init(line: String, replayable: Bool, note: String? = nil) {
        self.line = line; self.replayable = replayable; self.note = note
    }
}

/// All of the shell's state, in one place.
public final class Session {
    /// The configuration the next run is built from.
    public var config = RunConfig()
    /// The loaded dataset (nil until `data`).
    public var data: LoadedData?
    /// Every run, in the order they were started.
    public var runs: [Run] = []
    /// Index into `runs` of the selected run (`use`), nil before the first run.
    public var currentIndex: Int?
    /// Check thresholds and switches (`set check.…`).
    public var thresholds = Thresholds.defaults
    /// `set strict on` / --strict: a failing check makes a script exit with status 2.
    public var strict = false
    /// Share of physical memory a network (parameters, optimiser state, batch buffers) may use (`set memory`).
    public var memoryFraction = 0.5
    /// Threads the engine may use (`set threads`); 0 = the fastest for this machine.
    public var threads = 0
    /// Runs the latest `sweep` trained at once: 2 (two runs at a time, each on one thread) or 1.
    public internal(set) var sweepLanes = 0
    /// `set fix.epochs`: at most this many epochs per remedy `fix` tries on a curve rule.
    public var fixEpochs = 5
    /// The latest `fix` table (what `fix apply N` adopts and `report` shows).
    public var lastFix: FixTable?
    /// Commands that ran successfully, in order.
    public var history: [HistoryEntry] = []
    /// Set when a check failed while `strict` was on; the script runner turns it into exit status 2.
    public var strictFailure = false
    /// `--force` was given to the command now running: it may overwrite files Preflight did not write.
    public var forceOverwrite = false
    /// Set by `quit`.
    public var quitRequested = false
    /// Scripts being run, outermost first, as absolute paths (to refuse a script that sources itself, and to
    /// resolve a relative `source` path from the folder of the script that names it).
    public var sourceStack: [String] = []
    /// Set by a command whose history entry is not the line typed (an interrupted `train`, `sweep`, `source`):
    /// what `history save` must replay to reproduce what actually happened. Empty: nothing to replay.
    var historyOverride: [HistoryEntry]?
    /// Where the session's output goes (the terminal, or a test's capture).
    public let console: Console
    /// Flags and environment fixed for the life of the process.
    public var options: SessionOptions

    public init(console: Console, options: SessionOptions) {
        self.console = console
        self.options = options
    }

    public var currentRun: Run? { currentIndex.map { runs[$0] } }

    public func run(named name: String) -> Run? { runs.first { $0.name == name } }

    /// The data, or an error telling the user to load some.
    public func requireData() throws -> LoadedData {
        guard let d = data else { throw CommandError("no data loaded: try `data mnist`, `data fashion` or `data synthetic`") }
        return d
    }

    /// The configuration with the layers resolved against the data, validated.
    public func resolvedConfig() throws -> RunConfig {
        let d = try requireData()
        var c = config
        // A new run is built on the data loaded now (after `use NAME` the configuration may name another run's).
        c.data = d.spec
        if c.layers == nil { c.layers = [d.features, 128, 128, d.classes] }
        let layers = c.layers!
        if layers[0] != d.features {
            throw CommandError("the first layer has \(layers[0]) inputs but the data have \(d.features) features: try `layers \(d.features) \(layers.dropFirst().map(String.init).joined(separator: " "))`")
        }
        for k in c.layerInits.keys where k > layers.count - 1 {
            throw CommandError("`init … layer \(k)`: the network has only \(layers.count - 1) weight layers")
        }
        try checkMemory(layers: layers, batch: c.batch)
        return c
    }

    /// Refuses networks whose training buffers (`TrainingMemory.bytes`: parameters, gradients, optimiser state,
    /// the training step's copies of layer 0 and its batch buffers, the evaluation workspace, the sparse input
    /// lists) would not fit in the share of memory `set memory` allows. Dropout's, clipping's and batch
    /// normalisation's buffers count when the configuration has them on; the sparse lists always (the data may
    /// take the sparse path).
    /// `share`: the share of memory allowed (default: `set memory`'s).
    func checkMemory(layers: [Int], batch: Int, share: Double? = nil) throws {
        var params = 0
        for i in 0..<(layers.count - 1) { params += layers[i] * layers[i + 1] + layers[i + 1] }
        let bytes = TrainingMemory.bytes(sizes: layers, batch: batch, dropout: config.dropoutValue > 0, clip: config.clip != nil,
                                        batchNorm: config.batchNormValue)
        let share = share ?? memoryFraction
        let budget = Double(physicalMemory()) * share
        if bytes > budget {
            throw CommandError("this network needs about \(formatBytes(bytes)) (\(params) parameters), more than the budget of \(formatBytes(budget)) (set memory \(num(memoryFraction)) of the machine's memory)")
        }
    }

    /// The selected run if it was built from the current configuration; otherwise a new run
    /// (reusing the selected run's name if it has not trained yet). `announce` prints a note when a run starts.
    @discardableResult
    public func runForTraining(announce: Bool = true) throws -> Run {
        let c = try resolvedConfig()
        if let r = currentRun, !r.isExternal, r.config == c { applyThreads(r); return r }
        let wasLayers = config.layers
        let name: String
        if let r = currentRun, !r.isExternal, r.trainer.epochs.isEmpty, r.trainer.nonFinite == nil {
            name = r.name
            runs.remove(at: currentIndex!)
            currentIndex = nil   // the index no longer names a run (it was out of range when r was the last one)
        } else {
            name = nextRunName()
        }
        if let old = currentRun, announce {
            var d = old.config, n = c
            d.data = nil; n.data = nil
            if d == n, let was = old.config.data, let now = c.data {
                console.info("the loaded data (\(now.command)) are not run \(old.name)'s (\(was.command)): starting run \(name)")
            } else {
                console.info("configuration changed since run \(old.name): starting run \(name)")
            }
        }
        if wasLayers == nil && announce { console.info("layers not set: using \(c.layers!.map(String.init).joined(separator: " "))") }
        let r = makeRun(name: name, config: c)
        runs.append(r)
        currentIndex = runs.count - 1
        return r
    }

    /// A new run from a resolved configuration, recording the loaded data it is built on.
    func makeRun(name: String, config c: RunConfig) -> Run {
        let r = Run(name: name, config: c)
        if let d = data, d.spec == c.data { r.data = RunData(d) }
        applyThreads(r)
        return r
    }

    /// What a run was built on: its record, or (runs of old save files) the loaded data when they are the
    /// run's; nil when unknown.
    public func dataRecord(of run: Run) -> RunData? {
        if let r = run.data { return r }
        if let d = data, d.spec == run.config.data { return RunData(d) }
        return nil
    }

    /// The `threads` setting (0 = the default for this machine) on a run's trainer.
    func applyThreads(_ r: Run) {
        r.trainer.threads = threads == 0 ? Trainer.defaultThreads : threads
    }

    public func nextRunName() -> String {
        var i = 1
        while run(named: "run\(i)") != nil { i += 1 }
        return "run\(i)"
    }

    /// Findings for a run: before training from a probe of the first batch, after it from the records.
    /// `epochLimit`: judge the run as it was after that many epochs (its first batch and first epochs; `fix`).
    public func findings(for run: Run, only: [String]? = nil, epochLimit: Int? = nil) -> [Finding] {
        // An external run is judged on what its record holds.
        if let rec = run.record { return Rules.evaluate(rec.checkInput, thresholds: thresholds, only: only) }
        let t: Trainer = run.trainer
        var first = run.firstBatch
        // No probe when the data do not fit the network (a label without an output unit); output-units says so.
        // The probe is the run's first batch until training records its own.
        if first == nil, let d = data, d.spec == run.config.data, t.accepts(d.train) {
            first = t.probe(d.train, batch: run.config.batch, epsilon: Float(run.config.epsilon))
            if t.epochs.isEmpty && t.nonFinite == nil { run.probedFirstBatch = first }
        }
        // The static rules judge the data the run was built on, never whatever is loaded now.
        let rd = dataRecord(of: run)
        var input = CheckInput(layers: run.config.layers!, classes: rd?.classes ?? 0,
                               activation: run.config.activation,
                               initializers: run.config.initializers(layerCount: run.config.layers!.count - 1),
                               optimizer: run.config.optimizer, epsilon: run.config.epsilon,
                               dataInputMin: rd?.inputMin ?? .nan, dataInputMax: rd?.inputMax ?? .nan,
                               firstBatch: first, epochs: epochLimit.map { Array(t.epochs.prefix($0)) } ?? t.epochs,
                               nonFinite: t.nonFinite.flatMap { ev in epochLimit.map { ev.epoch <= $0 } ?? true ? ev : nil })
        input.dataName = rd?.spec.command
        input.dataScale = run.config.data?.scale.rawValue ?? ""
        input.classNames = run.config.data?.classNames
        if let d = data, d.spec == run.config.data {
            input.dataIsImage = d.dataset.isImage
            input.trainClassCounts = d.trainCounts
            input.testClassCounts = d.testCounts
        }
        return Rules.evaluate(input, thresholds: thresholds, only: only)
    }
}

func physicalMemory() -> Int {
    #if canImport(Glibc)
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? pages * size : 8 << 30
    #else
    return 8 << 30
    #endif
}

func formatBytes(_ b: Double) -> String {
    if b >= 1_073_741_824 { return fmt(b / 1_073_741_824, 1) + " GiB" }
    if b >= 1_048_576 { return fmt(b / 1_048_576, 1) + " MiB" }
    return fmt(b / 1024, 1) + " KiB"
}

