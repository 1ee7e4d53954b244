import PreflightEngine
import PreflightChecks

extension Commands {
    static let layers = Command(
        "layers", group: .model, forms: [[.value(.count("IN")), .any(.value(.count("HIDDEN"))), .value(.count("OUT"))]],
        summary: "network sizes: input, hidden layers, output",
        details: "at least an input and an output size; each 1..100000; at most 64 weight layers",
        example: "layers 784 128 128 10") { s, inv in
            let a = inv.words
            guard a.count >= 2 else { throw inv.usageError("layers: give at least the input and output sizes") }
            guard a.count <= 65 else { throw inv.usageError("layers: at most 64 weight layers, got \(a.count - 1)") }
            let sizes = try a.map { try parseCount($0, "a layer size", in: "layers", min: 1, max: 100_000) }
            try s.checkMemory(layers: sizes, batch: s.config.batch)
            s.config.layers = sizes
        }

    static let activation = Command(
        "activation", group: .model, forms: [[.value(.choice(Activation.allCases.map(\.rawValue)))]],
        brief: "activation NAME",
        summary: "hidden-layer activation (default relu)", details: "the output layer is always softmax + cross-entropy",
        example: "activation tanh") { s, inv in
            let a = inv.words
            guard a.count == 1 else { throw inv.usageError("activation: give one name") }
            guard let act = Activation(rawValue: a[0].lowercased().replacingOccurrences(of: "-", with: "_")) else {
                throw inv.usageError("activation: unknown activation `\(a[0].prefix(30))`")
            }
            s.config.activation = act
        }

    /// The initialisers that take a number (Keras' names have a default, so for them it is optional).
    static let initializersWithNumber = ["truncnormal", "normal", "uniform"]
    static let kerasWithNumber = ["truncated_normal", "random_normal", "random_uniform"]

    static let initializer = Command(
        "init", group: .model,
        forms: [[.oneOf([[.value(.choice(Initializer.names.filter { !initializersWithNumber.contains($0) }
                                          + Initializer.kerasNames.filter { !kerasWithNumber.contains($0) }, placeholder: "NAME"))],
                         [.value(.choice(initializersWithNumber, placeholder: "NAME")), .value(.number("P"))],
                         [.value(.choice(kerasWithNumber, placeholder: "NAME")), .optional([.value(.number("P"))])]]),
                 .optional([.keyword("layer"), .value(.count("K"))])]],
        usage: "init glorot|glorot-normal|he|he-uniform|lecun|truncnormal STD|normal STD|uniform LIMIT|zeros [layer K]",
        brief: "init NAME [P] [layer K]",
        summary: "weight initialisation (default glorot); biases zero",
        details: """
        glorot: uniform ±√(6/(fan_in+fan_out)) (Keras' default)
        glorot-normal, he, lecun: truncated normal with std √(2/(in+out)), √(2/in), √(1/in) (Keras' variance scaling:
          a normal of σ = std/0.8796 cut at ±2σ, so that what is drawn has that std; `show init` prints σ)
        he-uniform: uniform ±√(6/fan_in)
        truncnormal STD: normal(0, STD) redrawn beyond 2 STD (TensorFlow's truncated_normal)
        normal STD, uniform LIMIT, zeros
        Keras' names work too: glorot_uniform, glorot_normal, he_normal, he_uniform, lecun_normal, zeros; \
        truncated_normal [STD], random_normal [STD], random_uniform [LIMIT] (Keras' default 0.05)
        layer K: only weight layer K (1 = input to first hidden)
        """,
        example: "init truncnormal 0.5") { s, inv in
            var words = inv.words
            var layer: Int? = nil
            if words.count >= 2, words[words.count - 2].lowercased() == "layer" {
                layer = try parseCount(words.last!, "the layer number", in: "init", min: 1, max: 64)
                words.removeLast(2)
            }
            guard !words.isEmpty else { throw inv.usageError("init: which initialiser?") }
            guard let i = Initializer.parse(words) else {
                let head = words[0].lowercased()
                if initializersWithNumber.contains(head) {
                    throw inv.usageError("init \(head): needs one number ≥ 0, e.g. `init \(head) 0.05`")
                }
                if ["truncated-normal", "random-normal", "random-uniform"].contains(head.replacingOccurrences(of: "_", with: "-")) {
                    throw inv.usageError("init \(head): takes at most one number ≥ 0 (Keras' default 0.05), e.g. `init \(head) 0.05`")
                }
                if Initializer.parse([words[0]]) != nil {
                    throw inv.usageError("init \(head): takes no number, got `\(words.dropFirst().joined(separator: " ").prefix(30))`")
                }
                var msg = "init: unknown initialiser `\(words.joined(separator: " ").prefix(40))`"
                let known = Initializer.names + Initializer.kerasNames
                if let best = known.min(by: { editDistance($0, head) < editDistance($1, head) }), editDistance(best, head) <= 3 {
                    msg += ": did you mean `\(best)`?"
                }
                throw inv.usageError(msg)
            }
            if let layer { s.config.layerInits[layer] = i } else { s.config.initializer = i; s.config.layerInits = [:] }
        }

    static let optimizer = Command(
        "optimizer", aliases: ["optimiser", "opt"], group: .model,
        forms: [[.keyword("sgd"), .value(.number("LR")), .optional([.keyword("momentum"), .value(.number("M"))])],
                [.keyword("adam"), .value(.number("LR"))], [.keyword("rmsprop"), .value(.number("LR"))],
                [.keyword("adamw"), .value(.number("LR")), .optional([.value(.number("WD"))])]],
        brief: "optimizer NAME LR [momentum M]",
        summary: "optimiser and learning rate (default adam 0.001)",
        details: "Keras' constants: Adam β1 0.9, β2 0.999, ε 1e-7; RMSprop ρ 0.9; SGD momentum as v = m·v − lr·g; adamw: Adam with decoupled weight decay WD (default 0.01, torch.optim.AdamW's): every weight and bias × (1 − lr·WD) each step, lr as scheduled",
        example: "optimizer sgd 0.1 momentum 0.9") { s, inv in
            let a = inv.words
            guard let kind = a.first?.lowercased() else { throw inv.usageError("optimizer: which optimiser?") }
            let lr = a.count >= 2 ? try parseNumber(a[1], "the learning rate", in: "optimizer", positive: true) : 0.001
            switch kind {
            case "sgd":
                var m = 0.0
                if a.count == 4, a[2].lowercased() == "momentum" {
                    m = try parseNumber(a[3], "momentum", in: "optimizer", nonNegative: true)
                    guard m < 1 else { throw inv.usageError("optimizer: momentum must be below 1, got \(a[3])") }
                } else if a.count > 2 { throw inv.usageError("optimizer: unexpected `\(a[2...].joined(separator: " ").prefix(30))`") }
                if a.count < 2 { throw inv.usageError("optimizer sgd: needs a learning rate") }
                s.config.optimizer = .sgd(lr: lr, momentum: m)
            case "adam", "rmsprop":
                guard a.count <= 2 else { throw inv.usageError("optimizer: unexpected `\(a[2...].joined(separator: " ").prefix(30))`") }
                s.config.optimizer = kind == "adam" ? .adam(lr: lr) : .rmsprop(lr: lr)
            case "adamw":
                guard a.count <= 3 else { throw inv.usageError("optimizer: unexpected `\(a[3...].joined(separator: " ").prefix(30))`") }
                let wd = a.count == 3 ? try parseWeightDecay(a[2], lr: lr) : OptimizerKind.defaultWeightDecay
                if a.count < 3 { _ = try parseWeightDecay(String(wd), lr: lr) }
                s.config.optimizer = .adamw(lr: lr, weightDecay: wd)
            default:
                throw inv.usageError("optimizer: unknown optimiser `\(kind.prefix(30))`")
            }
        }

    static let batch = Command("batch", group: .model, forms: [[.value(.count())]], summary: "mini-batch size (default 100)",
                               example: "batch 128") { s, inv in try setValue(s, "batch", inv.words) }
    static let seed = Command("seed", group: .model, forms: [[.value(.count())]],
                              summary: "seed for weights, shuffling and synthetic data (default 0)",
                              example: "seed 1") { s, inv in try setValue(s, "seed", inv.words) }
    static let epsilon = Command("epsilon", group: .model, forms: [[.value(.number("E"))]],
                                 summary: "ε of the loss clipping and the saturation check (default 1e-7)",
                                 example: "epsilon 1e-7") { s, inv in try setValue(s, "epsilon", inv.words) }

    /// `set KEY VALUE`: the keys are the session's settings; what a value may be depends on the key.
    static let settingValue = Completer { c in
        guard let key = c.positionals.first?.lowercased() else { return [] }
        if key == "schedule" { return c.positionals.count == 1 ? ["none", "step", "cosine"] : [] }
        if key == "clip" { return c.positionals.count == 1 ? ["off"] : [] }
        if key == "batchnorm" { return c.positionals.count == 1 ? ["on", "off"] : [] }
        if key == "strict" || (key.hasPrefix("check.") && key.split(separator: ".").count == 2) { return ["on", "off"] }
        if key == "threads" { return ["auto", "1", "2"] }
        return []
    }

    static let set = Command(
        "set", group: .model,
        forms: [[.optional([.value(.text("KEY", what: "a setting", completer: Completer { c in Commands.settingsList(c.session).map(\.0) })),
                            .repeated(.value(.text("VALUE", what: "a value", completer: settingValue)))])]],
        usage: "set [KEY VALUE]",
        summary: "show every setting, or change one (check thresholds included)",
        details: "keys: batch, seed, epsilon, lr, momentum, weight_decay (adamw), l2, schedule (none|step EVERY FACTOR|cosine), schedule.epochs (E|auto), dropout (P in [0, 1)), clip (NORM|off), batchnorm (on|off), fix.epochs (default 5), threads (auto|1|2), memory (share of RAM a network may use, 0.5), strict, check.RULE (on|off), check.RULE.warn, check.RULE.fail",
        example: "set check.saturation.fail 0.1") { s, inv in
            let a = inv.words
            if a.isEmpty { printSettings(s); return }
            // `set schedule step 5 0.5` takes three words; every other key one.
            guard a.count == 2 || (a.count > 2 && a[0].lowercased() == "schedule") else {
                throw inv.usageError("set: give a key and a value")
            }
            try setValue(s, a[0], Array(a.dropFirst()))
        }

    static let show = Command(
        "show", group: .model, forms: [[.optional([.keyword("init")])]],
        summary: "the configuration and network; `show init` the initial weights per layer",
        example: "show init") { s, inv in
            let a = inv.words
            if a.isEmpty { try showConfig(s) }
            else if a == ["init"] { try showInit(s) }
            else { throw inv.usageError("show: unknown topic `\(a.joined(separator: " ").prefix(30))`") }
        }
}

extension Commands {

    /// Every `set` key with its current value, in display order.
    static func settingsList(_ s: Session) -> [(String, String)] {
        var out: [(String, String)] = [
            ("batch", String(s.config.batch)), ("seed", String(s.config.seed)), ("epsilon", num(s.config.epsilon)),
            ("lr", num(s.config.optimizer.learningRate)),
        ]
        if case .sgd(_, let m) = s.config.optimizer { out.append(("momentum", num(m))) }
        out += remedySettings(s)
        out.append(("threads", s.threads == 0 ? "auto" : String(s.threads)))
        out.append(("memory", num(s.memoryFraction)))
        out.append(("strict", s.strict ? "on" : "off"))
        for k in s.thresholds.keys { out.append((k, s.thresholds.describe(k))) }
        return out
    }

    static func printSettings(_ s: Session) {
        var rows = [["setting", "value"]]
        for (k, v) in settingsList(s) { rows.append([k, v]) }
        s.console.out(Table(rows: rows).render(console: s.console))
    }

    static func setValue(_ s: Session, _ key: String, _ args: [String]) throws {
        if try setRemedyValue(s, key, args) { return }
        guard args.count == 1 else { throw CommandError("\(key): give one value", usage: Commands.named(key)?.usage ?? "set \(key) VALUE") }
        let v = args[0]
        switch key.lowercased() {
        case "batch":
            let b = try parseCount(v, "the batch size", in: key, min: 1, max: 1_000_000)
            if let d = s.data, b > d.train.count { throw CommandError("batch: \(b) is larger than the \(d.train.count) training samples") }
            try s.checkMemory(layers: s.config.layers ?? [784, 128, 10], batch: b)
            s.config.batch = b
        case "seed":
            guard let n = UInt64(v) else { throw CommandError("seed: must be a whole number ≥ 0, got `\(v.prefix(30))`") }
            s.config.seed = n
        case "epsilon":
            let e = try parseNumber(v, "epsilon", in: key, positive: true)
            guard e < 0.5 else { throw CommandError("epsilon: must be below 0.5, got \(v)") }
            s.config.epsilon = e
        case "lr", "learning_rate":
            let lr = try parseNumber(v, "the learning rate", in: key, positive: true)
            if case .adamw(_, let wd) = s.config.optimizer { _ = try parseWeightDecay(String(wd), lr: lr) }
            s.config.optimizer = s.config.optimizer.withLearningRate(lr)
        case "momentum":
            guard case .sgd(let lr, _) = s.config.optimizer else { throw CommandError("momentum: only sgd has momentum (optimizer sgd LR momentum M)") }
            let m = try parseNumber(v, "momentum", in: key, nonNegative: true)
            guard m < 1 else { throw CommandError("momentum: must be below 1, got \(v)") }
            s.config.optimizer = .sgd(lr: lr, momentum: m)
        case "threads":
            // The engine runs one thread or two (TwoThreadStep); more would be shown but never used.
            switch v.lowercased() {
            case "auto", "0": s.threads = 0
            case "1": s.threads = 1
            case "2": s.threads = 2
            default: throw CommandError("threads: auto, 1 or 2 (the engine uses at most two threads), got `\(v.prefix(30))`")
            }
        case "memory":
            let f = try parseNumber(v, "the memory share", in: key, positive: true)
            guard f <= 0.95 else { throw CommandError("memory: a share of physical memory, above 0 and at most 0.95, got \(v)") }
            s.memoryFraction = f
        case "strict":
            switch v.lowercased() {
            case "on", "true", "1": s.strict = true
            case "off", "false", "0": s.strict = false
            default: throw CommandError("strict: on or off, got `\(v.prefix(30))`")
            }
        default:
            if key.hasPrefix("check.") {
                // The threshold errors name the key themselves.
                do { try s.thresholds.set(key, v) } catch { throw CommandError("set: \(error)") }
                return
            }
            let keys = settingsList(s).map(\.0)
            var msg = "set: unknown setting `\(key.prefix(40))`"
            if let best = keys.min(by: { editDistance($0, key) < editDistance($1, key) }), editDistance(best, key) <= 3 {
                msg += ": did you mean `\(best)`?"
            } else { msg += " (type `set` for the list)" }
            throw CommandError(msg)
        }
    }

    static func showConfig(_ s: Session) throws {
        let c = s.config
        var rows: [[String]] = [["setting", "value"]]
        if let d = s.data {
            rows.append(["data", "\(d.spec.name) (\(d.train.count) train / \(d.test.count) test, \(d.features) features, \(d.classes) classes, scale \(d.spec.scale.rawValue))"])
        } else { rows.append(["data", "(none: try `data mnist`)"]) }
        if let l = c.layers {
            rows.append(["layers", l.map(String.init).joined(separator: " ") + "  (\(paramCount(s, l, batchNorm: c.batchNormValue)) parameters)"])
        } else if let d = s.data {
            let l = [d.features, 128, 128, d.classes]
            rows.append(["layers", "not set: \(l.map(String.init).joined(separator: " ")) will be used (\(paramCount(s, l, batchNorm: c.batchNormValue)) parameters)"])
        } else { rows.append(["layers", "not set"]) }
        rows.append(["activation", c.activation.rawValue + " (output: softmax + cross-entropy)"])
        rows.append(["init", c.initDescription])
        rows.append(["optimizer", c.optimizer.description])
        rows.append(["l2", c.l2Value == 0 ? "0 (off)" : num(c.l2Value) + " (weights only)"])
        rows.append(["schedule", c.scheduleValue == .none ? "none" : c.scheduleValue.description + " over "
                     + (c.scheduleEpochs.map { plural($0, "epoch") } ?? "the epochs of the run's first `train N`")])
        rows.append(["dropout", c.dropoutValue == 0 ? "0 (off)" : num(c.dropoutValue) + " (after every hidden activation, training only)"])
        rows.append(["clip", c.clip.map { num($0) + " (global gradient norm)" } ?? "off"])
        rows.append(["batchnorm", c.batchNormValue ? "on (before every hidden activation: batch statistics in training, running statistics at evaluation)" : "off"])
        rows.append(["batch", String(c.batch)])
        rows.append(["seed", String(c.seed)])
        rows.append(["epsilon", num(c.epsilon)])
        if let r = s.currentRun, let o = r.originText {
            rows.append(["run", "\(r.name): \(r.epochs.count) epochs (\(o))"])
        } else if let r = s.currentRun {
            let same = (try? s.resolvedConfig()) == r.config
            rows.append(["run", "\(r.name): \(plural(r.epochs.count, "epoch"))" + (same ? "" : " (configuration changed since: the next `train` starts a new run)")])
        } else { rows.append(["run", "none yet (the first `train` starts run1)"]) }
        s.console.out(Table(rows: rows).render(console: s.console))
    }

    /// Trainable parameters: weights and biases, and with batch normalisation γ and β of every hidden unit.
    static func paramCount(_ s: Session, _ l: [Int], batchNorm: Bool = false) -> Int {
        var n = 0
        for i in 0..<(l.count - 1) { n += l[i] * l[i + 1] + l[i + 1] }
        if batchNorm { n += 2 * l.dropFirst().dropLast().reduce(0, +) }
        return n
    }

    /// Per layer: fan-in/out, the initialiser, its formula's limit or std, and the drawn weights' min/max/std.
    static func showInit(_ s: Session) throws {
        let c = try s.resolvedConfig()
        let net: Network
        if let r = s.currentRun, !r.isExternal, r.config == c, r.trainer.epochs.isEmpty {
            net = r.network
        } else {
            net = c.makeNetwork()
            net.initialize(c.initializers(layerCount: c.layers!.count - 1), seed: c.seed)
            if let r = s.currentRun, !r.isExternal, r.config == c { s.console.info("(weights as drawn at the start of run \(r.name); it has trained since)") }
        }
        var rows = [["layer", "fan_in", "fan_out", "init", "formula", "min", "max", "mean", "std"]]
        let inits = c.initializers(layerCount: net.layerCount)
        // The truncated normals: σ is the normal's before the cut at ±2σ; what is drawn has std 0.8796·σ.
        func truncated(_ i: Initializer) -> Bool {
            switch i { case .glorotNormal, .he, .lecun, .truncnormal: return true; default: return false }
        }
        for l in 0..<net.layerCount {
            let w = net.weights(l)
            var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, sq = 0.0
            for v in w { let d = Double(v); lo = min(lo, d); hi = max(hi, d); sum += d; sq += d * d }
            let n = Double(w.count), mean = sum / n
            let std = max(0, sq / n - mean * mean).squareRoot()
            let (kind, value) = inits[l].scale(fanIn: net.sizes[l], fanOut: net.sizes[l + 1])
            rows.append([String(l + 1), String(net.sizes[l]), String(net.sizes[l + 1]), inits[l].description,
                         "\(truncated(inits[l]) ? "σ" : kind) \(fmt(value, 6))", fmt(lo, 6), fmt(hi, 6), fmt(mean, 6), fmt(std, 6)])
        }
        s.console.out(Table(rows: rows, rightAligned: [1, 2, 5, 6, 7, 8]).render(console: s.console))
        var explained = Set<String>()
        for (l, i) in inits.enumerated() where truncated(i) && !explained.contains(i.description) {
            explained.insert(i.description)
            let (_, sigma) = i.scale(fanIn: net.sizes[l], fanOut: net.sizes[l + 1])
            let std = sigma * Initializer.truncationCorrection
            let target: String
            switch i {
            case .glorotNormal: target = "std √(2/(fan_in+fan_out)) = \(fmt(std, 6)) (layer \(l + 1)), drawn as "
            case .he: target = "std √(2/fan_in) = \(fmt(std, 6)) (layer \(l + 1)), drawn as "
            case .lecun: target = "std √(1/fan_in) = \(fmt(std, 6)) (layer \(l + 1)), drawn as "
            default: target = ""
            }
            s.console.info("\(i.description): \(target)a normal of σ \(fmt(sigma, 6)) cut at ±2σ; what is drawn has std 0.8796·σ = \(fmt(std, 6))")
        }
        if net.layerCount > 0, inits[0] == .glorot {
            let (_, limit) = inits[0].scale(fanIn: net.sizes[0], fanOut: net.sizes[1])
            s.console.info("glorot: limit = √(6/(fan_in+fan_out)) = √(6/(\(net.sizes[0])+\(net.sizes[1]))) = \(fmt(limit, 6)); a uniform draw has std limit/√3 = \(fmt(limit / 3.0.squareRoot(), 6))")
        }
    }
}
