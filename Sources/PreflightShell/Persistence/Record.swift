import Foundation
import PreflightEngine
import PreflightChecks

// The record reader: the one way Preflight reads a JSON record (schema version 1 or 2, docs/export.md), whoever
// wrote it (our `export`, or the Python probe). `import`, `preflight check` and `load` all go through it.
// Every problem is one RecordError naming the file and the field; nothing is half-read.

/// One module or layer of an external model, as a version 2 record lists it.
public struct RecordLayer: Equatable, Sendable {
    public static let types = ["dense", "conv", "activation", "norm", "dropout", "pool", "embedding", "attention", "other"]
    public var name: String
    /// One of `types`.
    public var type: String
    public var inputs: Int?
    public var outputs: Int?
    public var parameters: Int?
    /// For activation modules: "relu", "tanh"…
    public var activation: String?
}

/// Where a first-batch NaN/Inf appeared (version 2: the first module whose output was not finite).
public struct FirstNonFinite: Equatable, Sendable {
    public var module: String
    public var stage: String
}

/// A run read from a record file: what the rules, charts and tables need, plus the run object as it was
/// read (for `export` and `save`, which write it back unchanged but for the checks).
public struct RecordedRun {
    public var name: String
    /// The file it was read from.
    public var file: String
    /// The file's schema version (1 or 2).
    public var version: Int
    /// "preflight", "pytorch", "keras"…
    public var engine: String
    public var engineVersion: String?
    /// Keras' backend ("torch", "jax", "tensorflow").
    public var backend: String?
    public var script: String?
    public var model: String?
    /// Number of classes; nil for a regression model or when the record does not say.
    public var classes: Int?
    public var layers: [RecordLayer] = []
    /// `config.layers`: widths of a plain MLP (input, hidden…, output).
    public var sizes: [Int]?
    public var activation: String?
    /// `config.init` with its parameter ("truncnormal 0.5"), when the record gives it.
    public var initText: String?
    /// `config.layer_init`: per weight layer (1-based) overrides, "truncnormal 0.5".
    public var layerInits: [Int: String] = [:]
    public var optimizerName: String?
    public var learningRate: Double?
    public var momentum: Double?
    /// `config.weight_decay` (AdamW's decoupled decay).
    public var weightDecay: Double?
    public var batch: Int?
    /// Any 64-bit seed (PyTorch's default initial seed often exceeds Int64).
    public var seed: UInt64?
    public var epsilon: Double?
    public var dataset: String?
    /// `config.scale` (unit, standard, none) and `config.input_min` / `input_max`: the inputs over the run's
    /// training set, as Preflight's export writes them; input-range judges these like a session does.
    public var dataScale: String?
    public var dataInputMin: Double = .nan
    public var dataInputMax: Double = .nan
    public var firstBatch: FirstBatchRecord?
    /// Version 2: "logits", "softmax" or "log_softmax".
    public var outputKind: String?
    /// Width of the model's output.
    public var outputs: Int?
    public var gradNormNames: [String] = []
    /// Names of the first batch's hidden outputs (nil where the record gives none).
    public var hiddenNames: [String?] = []
    public var firstNonFinite: FirstNonFinite?
    /// Per epoch; a value the record holds as null is NaN here (test metrics nil).
    public var epochs: [EpochRecord] = []
    /// Per-epoch values that are null in at least one epoch: "train_loss", "train_accuracy".
    public var missingEpochValues: Set<String> = []
    /// Whether some hidden statistics lack `dead_fraction` / `saturated_fraction`.
    public var lacksDeadFraction = false
    public var lacksSaturatedFraction = false
    public var nonFinite: NonFiniteEvent?
    /// The run object as read, keys in their order.
    var raw: JValue

    /// "pytorch 2.3.0 (torch)" and the like.
    public var engineText: String {
        engine + (engineVersion.map { " \($0)" } ?? "") + (backend.map { " (\($0))" } ?? "")
    }

    /// The hidden activation when the record names one Preflight knows.
    public var knownActivation: Activation? {
        activation.flatMap { Activation(rawValue: $0.lowercased().replacingOccurrences(of: "-", with: "_")) }
    }

    /// The optimiser, when the record names one Preflight knows and its learning rate.
    public var knownOptimizer: OptimizerKind? {
        guard let n = optimizerName?.lowercased(), let lr = learningRate else { return nil }
        switch n {
        case "sgd": return .sgd(lr: lr, momentum: momentum ?? 0)
        case "adam": return .adam(lr: lr)
        case "rmsprop": return .rmsprop(lr: lr)
        case "adamw": return .adamw(lr: lr, weightDecay: weightDecay ?? OptimizerKind.defaultWeightDecay)
        default: return nil
        }
    }

    /// The initialisers, when the record names ones Preflight knows (Preflight's own records): one for every
    /// weight layer when there are per-layer overrides, else the one for all.
    public var knownInitializers: [Initializer] {
        func parse(_ t: String) -> Initializer? { Initializer.parse(t.split(separator: " ").map(String.init)) }
        guard let t = initText, let i = parse(t) else { return [] }
        guard !layerInits.isEmpty, let sizes else { return [i] }
        var out: [Initializer] = []
        for l in 1..<sizes.count {
            guard let o = layerInits[l] else { out.append(i); continue }
            guard let li = parse(o) else { return [] }
            out.append(li)
        }
        return out
    }

    /// A configuration for the session's tables: what the record gives, Preflight's defaults elsewhere
    /// (the tables show the record's own words for an external run, see `Run`).
    var runConfig: RunConfig {
        var c = RunConfig()
        c.layers = sizes
        if let a = knownActivation { c.activation = a }
        if let i = knownInitializers.first { c.initializer = i }
        if let o = knownOptimizer { c.optimizer = o }
        if let b = batch { c.batch = b }
        if let s = seed { c.seed = s }
        if let e = epsilon { c.epsilon = e }
        return c
    }

    /// What the rules get: every field the record holds, nil or empty where it holds none.
    public var checkInput: CheckInput {
        var missing = Set<CheckInput.Missing>()
        if missingEpochValues.contains("train_loss") { missing.insert(.trainLoss) }
        if missingEpochValues.contains("train_accuracy") { missing.insert(.trainAccuracy) }
        if lacksDeadFraction { missing.insert(.deadFraction) }
        if lacksSaturatedFraction { missing.insert(.saturatedFraction) }
        var input = CheckInput(layers: sizes, classes: classes, activation: knownActivation, initializers: knownInitializers,
                               optimizer: knownOptimizer, epsilon: epsilon ?? 1e-7,
                               dataInputMin: dataInputMin, dataInputMax: dataInputMax,
                               firstBatch: firstBatch, epochs: epochs, nonFinite: nonFinite,
                               outputs: outputs ?? sizes?.last,
                               activationName: activation, firstBatchNonFinite: firstNonFinite.map { ($0.module, $0.stage) },
                               missing: missing, source: "the record")
        input.dataScale = dataScale ?? ""
        return input
    }

    /// The run object to write back (export, save): as read, with the name given and the checks replaced;
    /// a version 1 run gains `engine` (version 1 records were only written by Preflight).
    func json(name: String, checks: JSON) -> JSON {
        guard case .object(var fields) = raw else { return .null }
        if let k = fields.firstIndex(where: { $0.0 == "name" }) { fields[k].1 = .string(name) }
        var out = fields.map { ($0.0, $0.1.json) }
        if fields.first(where: { $0.0 == "engine" }) == nil {
            let at = (out.firstIndex { $0.0 == "name" } ?? -1) + 1
            out.insert(("engine", .object([("name", .string(engine)), ("version", .null), ("backend", .null)])), at: at)
        }
        if let k = out.firstIndex(where: { $0.0 == "checks" }) { out[k].1 = checks } else { out.append(("checks", checks)) }
        return .object(out)
    }
}

/// A bad record: which file, which field, what is wrong.
public struct RecordError: Error, CustomStringConvertible {
    public var file: String
    /// "runs[0].first_batch.loss"; "" for the file as a whole.
    public var field: String
    public var problem: String
    public var description: String { field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)" }
}

public enum RecordReader {
    /// The schema versions this Preflight reads.
    public static let versions = 1...2
    /// Files larger than this are refused before being read.
    public static let maxFileBytes = 64 << 20
    static let maxRuns = 10_000, maxEpochs = 1_000_000, maxItems = 100_000, maxWidth = 1 << 31

    /// Reads and validates a record file completely.
    public static func read(path: String) throws -> [RecordedRun] {
        func fail(_ p: String) -> RecordError { RecordError(file: path, field: "", problem: p) }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw fail("no such file") }
        guard !isDir.boolValue else { throw fail("is a directory, not a record file") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxFileBytes else {
            throw fail("\(formatBytes(Double(size))) is far larger than any record (the limit is \(formatBytes(Double(maxFileBytes))))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot be read (permission?)") }
        return try parse(Array(data), file: path)
    }

    /// Validates the bytes of a record file.
    public static func parse(_ bytes: [UInt8], file: String) throws -> [RecordedRun] {
        let root: JValue
        do { root = try JSONParser.parse(bytes) } catch let e as JSONSyntaxError {
            throw RecordError(file: file, field: "", problem: e.message)
        }
        let top = Node(value: root, path: "", file: file)
        try top.requireObject(what: "a record (an object with `version` and `runs`)")
        let versionNode = try top.required("version")
        guard case .int(let version) = versionNode.value else {
            throw versionNode.error("expected the schema version as a whole number, found \(versionNode.value.kind)")
        }
        guard versions.contains(version) else {
            throw versionNode.error("version \(version) is not one this Preflight reads (it reads versions \(versions.lowerBound) and \(versions.upperBound))")
        }
        let runNodes = try top.required("runs").array(max: maxRuns)
        guard !runNodes.isEmpty else { throw (try top.required("runs")).error("the file holds no runs") }
        var out: [RecordedRun] = []
        var seen: [String: Int] = [:]
        for (i, n) in runNodes.enumerated() {
            let r = try readRun(n, version: version, file: file)
            if let j = seen[r.name] { throw (try n.required("name")).error("the name \(r.name) is also the name of runs[\(j)]") }
            seen[r.name] = i
            out.append(r)
        }
        return out
    }

    static func readRun(_ n: Node, version: Int, file: String) throws -> RecordedRun {
        try n.requireObject(what: "a run")
        let nameNode = try n.required("name")
        let name = try nameNode.string()
        guard !name.isEmpty, name.count <= 64, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw nameNode.error("a run name is 1 to 64 printable characters")
        }
        var r = RecordedRun(name: name, file: file, version: version, engine: "preflight", raw: n.value)

        // engine, source, classes, layers (version 2)
        if version >= 2 {
            let e = try n.required("engine")
            try e.requireObject(what: "the engine (name, version, backend)")
            r.engine = try e.required("name").string()
            guard !r.engine.isEmpty else { throw try e.required("name").error("the engine has no name") }
            r.engineVersion = try e.optional("version")?.string()
            r.backend = try e.optional("backend")?.string()
            if let s = try n.optional("source") {
                try s.requireObject(what: "the source (script, model)")
                r.script = try s.optional("script")?.string()
                r.model = try s.optional("model")?.string()
            }
            r.classes = try n.optional("classes")?.int(1...1_000_000)
            if let ls = try n.optional("layers") {
                r.layers = try ls.array(max: maxItems).map { l in
                    try l.requireObject(what: "a layer (name, type…)")
                    let tn = try l.required("type")
                    let type = try tn.string()
                    guard RecordLayer.types.contains(type) else {
                        throw tn.error("unknown layer type `\(type.prefix(30))` (one of \(RecordLayer.types.joined(separator: ", ")))")
                    }
                    return RecordLayer(name: try l.required("name").string(), type: type,
                                       inputs: try l.optional("inputs")?.int(0...maxWidth),
                                       outputs: try l.optional("outputs")?.int(0...maxWidth),
                                       parameters: try l.optional("parameters")?.int(0...Int.max),
                                       activation: try l.optional("activation")?.string())
                }
            }
        }
        let strictConfig = r.engine == "preflight"

        // config: every field required for Preflight's own records, optional for other engines
        let cfgNode: Node?
        if strictConfig { cfgNode = try n.required("config") } else { cfgNode = try n.optional("config") }
        if let c = cfgNode {
            try c.requireObject(what: "the configuration")
            func field(_ k: String) throws -> Node? { strictConfig ? try c.required(k) : try c.optional(k) }
            if let l = try field("layers") {
                let sizes = try l.array(max: 1000).map { try $0.int(1...maxWidth) }
                guard sizes.count >= 2 else { throw l.error("needs at least the input and output sizes, found \(sizes.count)") }
                r.sizes = sizes
            }
            r.activation = try field("activation")?.string()
            if let i = try field("init") {
                var text = try i.string()
                if let s = try c.optional("init_std") { text += " " + formatParam(try s.number(finite: true)) }
                else if let s = try c.optional("init_limit") { text += " " + formatParam(try s.number(finite: true)) }
                r.initText = text
            }
            if let li = try c.optional("layer_init") {
                try li.requireObject(what: "per-layer initialisers (layer number → initialiser)")
                if case .object(let fields) = li.value {
                    for (k, _) in fields {
                        let node = try li.required(k)
                        guard let layer = Int(k), layer >= 1, layer <= 1000 else { throw node.error("a layer number from 1, found `\(k.prefix(20))`") }
                        r.layerInits[layer] = try node.string()
                    }
                }
            }
            r.optimizerName = try field("optimizer")?.string()
            if let lr = try field("learning_rate") {
                let v = try lr.number(finite: true)
                guard v > 0 else { throw lr.error("the learning rate must be greater than 0, found \(num(v))") }
                r.learningRate = v
            }
            r.momentum = try c.optional("momentum")?.number(finite: true)
            r.weightDecay = try c.optional("weight_decay")?.number(finite: true)
            r.batch = try field("batch")?.int(1...(1 << 30))
            r.seed = try field("seed")?.seed()
            if let e = try field("epsilon") {
                let v = try e.number(finite: true)
                guard v >= 0, v < 0.5 else { throw e.error("epsilon must be in [0, 0.5), found \(num(v))") }
                r.epsilon = v
            }
            r.dataset = try field("dataset")?.string()
            r.dataScale = try field("scale")?.string()
            r.dataInputMin = try c.optional("input_min")?.number() ?? .nan
            r.dataInputMax = try c.optional("input_max")?.number() ?? .nan
            _ = try c.optional("limit")?.int(1...Int.max)
        }
        if version == 1 { r.classes = r.sizes?.last }
        // Without config.activation, the activation modules' own name when they all agree (the output's softmax aside).
        if r.activation == nil {
            let names = Set(r.layers.filter { $0.type == "activation" }.compactMap(\.activation).filter { !$0.lowercased().contains("softmax") })
            if names.count == 1 { r.activation = names.first }
        }

        // first batch
        if let fb = try n.optional("first_batch") {
            try fb.requireObject(what: "the first batch's record")
            let hiddenNodes = try fb.required("hidden").array(max: maxItems)
            var hidden: [LayerStats] = []
            for h in hiddenNodes {
                let s = try stats(h, &r)
                hidden.append(s)
                r.hiddenNames.append(try h.optional("name")?.string())
            }
            let gradNodes = try fb.required("grad_norms").array(max: maxItems)
            let grads = try gradNodes.map { try $0.nonNegative() }
            let batchSize = try fb.required("batch_size").int(0...(1 << 30))
            r.firstBatch = FirstBatchRecord(
                loss: try fb.required("loss").number(),
                saturatedFraction: try fb.required("saturated_fraction").fraction(),
                lowFraction: try fb.required("low_fraction").fraction(),
                highFraction: try fb.required("high_fraction").fraction(),
                accuracy: try fb.optional("accuracy")?.fraction() ?? .nan,
                hidden: hidden, gradNorms: grads,
                inputMin: try fb.optional("input_min")?.number() ?? .nan,
                inputMax: try fb.optional("input_max")?.number() ?? .nan,
                batchSize: batchSize)
            if let k = try fb.optional("output_kind") {
                let kind = try k.string()
                guard ["logits", "softmax", "log_softmax"].contains(kind) else {
                    throw k.error("unknown output kind `\(kind.prefix(30))` (logits, softmax or log_softmax)")
                }
                r.outputKind = kind
            }
            r.outputs = try fb.optional("outputs")?.int(1...maxWidth)
            if let names = try fb.optional("grad_norm_names") {
                let list = try names.array(max: maxItems)
                guard list.count == grads.count else {
                    throw names.error("has \(list.count) names for \(grads.count) grad_norms")
                }
                r.gradNormNames = try list.map { try $0.string() }
            }
            if let ps = try fb.optional("parameters") {
                for p in try ps.array(max: maxItems) {
                    try p.requireObject(what: "a parameter (name, grad_norm)")
                    _ = try p.required("name").string()
                    _ = try p.required("grad_norm").nonNegative()
                }
            }
            if let ms = try fb.optional("modules") {
                var scratch = r
                for m in try ms.array(max: maxItems) { _ = try stats(m, &scratch) }
            }
            if let nf = try fb.optional("nonfinite") {
                try nf.requireObject(what: "where the first NaN/Inf appeared (module, stage)")
                r.firstNonFinite = FirstNonFinite(module: try nf.required("module").string(), stage: try nf.required("stage").string())
            }
        }

        // epochs
        var lastEpoch = 0
        for e in try n.required("epochs").array(max: maxEpochs) {
            try e.requireObject(what: "an epoch's record")
            let en = try e.required("epoch")
            let epoch = try en.int(1...100_000_000)
            guard epoch > lastEpoch else { throw en.error("epoch \(epoch) comes after epoch \(lastEpoch): epochs must increase") }
            lastEpoch = epoch
            func metric(_ k: String, fraction: Bool) throws -> Double? {
                guard let v = try e.optional(k) else { return nil }
                return fraction ? try v.fraction() : try v.number()
            }
            let trainLoss = try metric("train_loss", fraction: false), trainAcc = try metric("train_accuracy", fraction: true)
            if trainLoss == nil { r.missingEpochValues.insert("train_loss") }
            if trainAcc == nil { r.missingEpochValues.insert("train_accuracy") }
            let hidden = try (e.optional("hidden")?.array(max: maxItems) ?? []).map { try stats($0, &r) }
            let layers = try (e.optional("layers")?.array(max: maxItems) ?? []).map { l -> LayerGradRecord in
                try l.requireObject(what: "a weight layer's record (grad_norm, update_ratio)")
                _ = try l.optional("name")?.string()
                return LayerGradRecord(gradNorm: try l.required("grad_norm").nonNegative(),
                                       updateRatio: try l.required("update_ratio").nonNegative())
            }
            let batches = try e.optional("batches")?.int(0...Int(Int32.max)) ?? 0
            let complete = try e.optional("complete")?.bool() ?? true
            _ = try e.optional("sampled_steps")?.int(0...Int.max)
            r.epochs.append(EpochRecord(
                epoch: epoch, trainLoss: trainLoss ?? .nan, trainAccuracy: trainAcc ?? .nan,
                testLoss: try metric("test_loss", fraction: false), testAccuracy: try metric("test_accuracy", fraction: true),
                seconds: try e.optional("seconds")?.nonNegative() ?? .nan,
                samplesPerSecond: try e.optional("samples_per_second")?.nonNegative() ?? .nan,
                hidden: hidden, layers: layers, batches: batches, totalBatches: complete ? batches : batches + 1))
        }

        if let nf = try n.optional("nonfinite") {
            try nf.requireObject(what: "where training met a NaN/Inf (epoch, batch, stage, layer)")
            r.nonFinite = NonFiniteEvent(epoch: try nf.required("epoch").int(0...100_000_000), batch: try nf.required("batch").int(0...Int.max),
                                         stage: try nf.required("stage").string(), layer: try nf.required("layer").string())
        }
        if let cs = try n.optional("checks") {
            for c in try cs.array(max: maxItems) {
                try c.requireObject(what: "a check's finding")
                _ = try c.required("rule").string()
                let v = try c.required("verdict")
                guard Verdict(rawValue: try v.string()) != nil else { throw v.error("a verdict is ok, warn, fail or not-run") }
            }
        }
        return r
    }

    /// One hidden layer's (or module's) statistics.
    static func stats(_ h: Node, _ r: inout RecordedRun) throws -> LayerStats {
        try h.requireObject(what: "layer statistics (mean, std, max, zero_fraction, above_one_fraction…)")
        _ = try h.optional("name")?.string()
        if let t = try h.optional("type") {
            let type = try t.string()
            guard RecordLayer.types.contains(type) else { throw t.error("unknown layer type `\(type.prefix(30))`") }
        }
        let dead = try h.optional("dead_fraction")?.fraction()
        let sat = try h.optional("saturated_fraction")?.fraction()
        if dead == nil { r.lacksDeadFraction = true }
        if sat == nil { r.lacksSaturatedFraction = true }
        return LayerStats(mean: try h.required("mean").number(), std: try h.required("std").nonNegative(),
                          max: try h.required("max").number(),
                          zeroFraction: try h.required("zero_fraction").fraction(),
                          aboveOneFraction: try h.required("above_one_fraction").fraction(),
                          deadFraction: dead ?? .nan, saturatedFraction: sat ?? .nan, samples: 0)
    }
}

/// A value inside a record with its path, for errors that name the field.
struct Node {
    var value: JValue
    var path: String
    var file: String

    func error(_ problem: String) -> RecordError {
        RecordError(file: file, field: path.isEmpty ? "" : path, problem: problem)
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func requireObject(what: String) throws {
        guard case .object = value else { throw error("expected \(what), found \(value.kind)") }
    }

    /// The field; an error when it is absent.
    func required(_ key: String) throws -> Node {
        guard let v = value[key] else { throw RecordError(file: file, field: child(key), problem: "missing") }
        return Node(value: v, path: child(key), file: file)
    }

    /// The field; nil when it is absent or null.
    func optional(_ key: String) throws -> Node? {
        guard let v = value[key] else { return nil }
        if case .null = v { return nil }
        return Node(value: v, path: child(key), file: file)
    }

    func array(max: Int) throws -> [Node] {
        guard case .array(let items) = value else { throw error("expected an array, found \(value.kind)") }
        guard items.count <= max else { throw error("\(items.count) entries is absurd (at most \(max))") }
        return items.enumerated().map { Node(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw error("expected a string, found \(value.kind)") }
        guard s.utf8.count <= 65536 else { throw error("a string of \(s.utf8.count) bytes is absurd (at most 65536)") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false, found \(value.kind)") }
        return b
    }

    /// A number; null stands for NaN or an infinity (JSON has neither).
    func number(finite: Bool = false) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d), .bigInt(_, let d): return d
        case .null where !finite: return .nan
        case .string(let s) where ["nan", "inf", "-inf", "infinity", "-infinity"].contains(s.lowercased()):
            throw error("expected a number, found the string \"\(s)\": a NaN or infinity is written as null")
        default: throw error("expected a number\(finite ? "" : " or null"), found \(value.kind)")
        }
    }

    func nonNegative() throws -> Double {
        let v = try number()
        guard !(v < 0) else { throw error("must not be negative, found \(num(v))") }
        return v
    }

    /// A share in [0, 1] (or null).
    func fraction() throws -> Double {
        let v = try number()
        guard v.isNaN || (v >= 0 && v <= 1) else { throw error("a fraction must be in [0, 1], found \(num(v))") }
        return v
    }

    /// A seed: any whole number from 0 to 2^64 - 1.
    func seed() throws -> UInt64 {
        switch value {
        case .int(let i) where i >= 0: return UInt64(i)
        case .bigInt(let s, _): if let v = UInt64(s) { return v }
        default: break
        }
        throw error("a seed is a whole number from 0 to 18446744073709551615, found \(value.kind)")
    }

    /// A whole number in `range` (1.0 is accepted as 1).
    func int(_ range: ClosedRange<Int>) throws -> Int {
        let v: Int
        switch value {
        case .int(let i): v = i
        case .bigInt(let s, _): throw error("\(s.prefix(30)) is absurd (at most \(range.upperBound))")
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: v = Int(d)
        case .double(let d):
            throw error(abs(d) >= 9e15 ? "the number \(num(d)) is absurd (at most \(range.upperBound))" : "expected a whole number, found \(num(d))")
        default: throw error("expected a whole number, found \(value.kind)")
        }
        guard range.contains(v) else {
            throw error(v > range.upperBound ? "\(v) is absurd (at most \(range.upperBound))" : "must be at least \(range.lowerBound), found \(v)")
        }
        return v
    }
}
