import Foundation
import PreflightEngine

// The training remedies of issue 14: `l2 L`, `schedule …`, `dropout P`, `clip NORM|off`, `batchnorm on|off` (and
// `optimizer adamw LR [WD]` in ModelCommands), with their `set` keys. Each is part of RunConfig, so a change starts a new run like any other.

extension Commands {
    static let l2 = Command(
        "l2", group: .model, forms: [[.value(.number("L"))]],
        summary: "L2 regularisation of the weights (default 0, off)",
        details: """
        Keras' kernel_regularizer=l2(L): the loss gains L·Σw² over every weight matrix (never the biases), so each \
        weight's gradient gains 2·L·w. The recorded losses are the cross-entropy alone. L ≥ 0; 0 turns it off.
        """,
        example: "l2 1e-4") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("l2: give one number ≥ 0") }
            s.config.l2 = try parseL2(inv.words[0])
        }

    static let dropout = Command(
        "dropout", group: .model, forms: [[.value(.number("P"))]],
        summary: "inverted dropout after every hidden activation (default 0, off)",
        details: """
        Keras' Dropout(P) after each hidden layer: in training each hidden output is zeroed with probability P and \
        the rest scaled by 1/(1 − P); never at evaluation, nor in the first-batch record (its step does not drop, \
        so the init checks see the network as initialised). The masks depend on the seed only, not on the thread \
        count. P in [0, 1); 0 turns it off.
        """,
        example: "dropout 0.3") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("dropout: give one rate in [0, 1)") }
            s.config.dropout = try parseDropout(inv.words[0])
        }

    static let clip = Command(
        "clip", group: .model, forms: [[.oneOf([[.keyword("off")], [.value(.number("NORM"))]])]],
        summary: "global gradient-norm clipping (default off)",
        details: """
        Keras' global_clipnorm, torch's clip_grad_norm_: when the L2 norm of all weight and bias gradients of a \
        step together exceeds NORM, every gradient is scaled by NORM / norm before the update. NORM > 0; `off` \
        turns it off. The recorded gradient norms are the clipped ones, the first-batch record's the raw ones.
        """,
        example: "clip 1") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("clip: give one norm > 0, or off") }
            s.config.clip = try parseClip(inv.words[0])
        }

    static let batchnorm = Command(
        "batchnorm", group: .model, forms: [[.value(.choice(["on", "off"]))]],
        summary: "batch normalisation before every hidden activation (default off)",
        details: """
        Keras' BatchNormalization() between each hidden Dense layer and its activation (never the output layer): in \
        training each unit's pre-activation is normalised by the batch's mean and (biased) variance, ε 1e-3, then \
        scaled by γ and shifted by β, both trained (no l2 or weight decay on them); the running mean and variance \
        (momentum 0.99) normalise at evaluation. The first-batch record uses the batch's statistics, like Keras \
        in training. Dropout, when on, follows the activation.
        """,
        example: "batchnorm on") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("batchnorm: give on or off") }
            s.config.batchNorm = try parseBatchNorm(inv.words[0])
        }

    static let schedule = Command(
        "schedule", group: .model,
        forms: [[.oneOf([[.keyword("none")], [.keyword("step"), .value(.count("EVERY")), .value(.number("FACTOR"))], [.keyword("cosine")]])]],
        summary: "learning-rate schedule over the planned epochs (default none)",
        details: """
        step EVERY FACTOR: the rate times FACTOR every EVERY epochs (EVERY ≥ 1, FACTOR in (0, 1])
        cosine: lr·(1 + cos(π·e/E))/2 in 0-based epoch e of E planned epochs (later epochs keep the last rate)
        The plan E: `set schedule.epochs E`, else the N of the run's first `train N` (a second `train` continues \
        the same plan)
        """,
        example: "schedule step 5 0.5") { s, inv in
            s.config.schedule = try parseSchedule(inv.words)
        }
}

extension Commands {
    /// `set` keys of the remedies; true when `key` was one. Takes every word after the key (`set schedule step 5 0.5`).
    static func setRemedyValue(_ s: Session, _ key: String, _ args: [String]) throws -> Bool {
        switch key.lowercased() {
        case "l2":
            guard args.count == 1 else { throw CommandError("l2: give one number ≥ 0", usage: "set l2 L") }
            s.config.l2 = try Self.parseL2(args[0])
        case "schedule":
            s.config.schedule = try Self.parseSchedule(args)
        case "dropout":
            guard args.count == 1 else { throw CommandError("dropout: give one rate in [0, 1)", usage: "set dropout P") }
            s.config.dropout = try Self.parseDropout(args[0])
        case "clip":
            guard args.count == 1 else { throw CommandError("clip: give one norm > 0, or off", usage: "set clip NORM|off") }
            s.config.clip = try Self.parseClip(args[0])
        case "batchnorm":
            guard args.count == 1 else { throw CommandError("batchnorm: give on or off", usage: "set batchnorm on|off") }
            s.config.batchNorm = try Self.parseBatchNorm(args[0])
        case "schedule.epochs":
            guard args.count == 1 else { throw CommandError("schedule.epochs: give one number, or auto", usage: "set schedule.epochs E|auto") }
            if args[0].lowercased() == "auto" { s.config.scheduleEpochs = nil; return true }
            s.config.scheduleEpochs = try parseCount(args[0], "the planned epochs", in: "schedule.epochs", min: 1, max: 100_000)
        case "weight_decay", "wd":
            guard case .adamw(let lr, _) = s.config.optimizer else {
                throw CommandError("weight_decay: only adamw has a decoupled weight decay (optimizer adamw LR [WD]); for the others use `l2 L`")
            }
            guard args.count == 1 else { throw CommandError("weight_decay: give one number", usage: "set weight_decay WD") }
            s.config.optimizer = .adamw(lr: lr, weightDecay: try Self.parseWeightDecay(args[0], lr: lr))
        case "fix.epochs":
            guard args.count == 1 else { throw CommandError("fix.epochs: give one number", usage: "set fix.epochs N") }
            s.fixEpochs = try parseCount(args[0], "the epochs a remedy may train", in: "fix.epochs", min: 1, max: 1000)
        default:
            return false
        }
        return true
    }

    /// The remedies' rows of `set` (after lr/momentum).
    static func remedySettings(_ s: Session) -> [(String, String)] {
        var out: [(String, String)] = []
        if case .adamw(_, let wd) = s.config.optimizer { out.append(("weight_decay", num(wd))) }
        out.append(("l2", num(s.config.l2Value)))
        out.append(("schedule", s.config.scheduleValue.description))
        out.append(("schedule.epochs", s.config.scheduleEpochs.map(String.init) ?? "auto"))
        out.append(("dropout", num(s.config.dropoutValue)))
        out.append(("clip", s.config.clip.map(num) ?? "off"))
        out.append(("batchnorm", s.config.batchNormValue ? "on" : "off"))
        out.append(("fix.epochs", String(s.fixEpochs)))
        return out
    }

    static func parseL2(_ s: String) throws -> Double? {
        guard let v = Double(s), v.isFinite else { throw CommandError("l2: must be a number ≥ 0 (0 turns it off), got `\(s.prefix(30))`") }
        guard v >= 0 else { throw CommandError("l2: must be ≥ 0 (0 turns it off), got \(s)") }
        return v == 0 ? nil : v
    }

    /// `dropout P`: P in [0, 1) (1 would drop every unit); 0 is off (nil).
    static func parseDropout(_ s: String) throws -> Double? {
        guard let v = Double(s), v.isFinite else { throw CommandError("dropout: the rate must be a number in [0, 1) (0 turns it off), got `\(s.prefix(30))`") }
        guard v >= 0, v < 1 else { throw CommandError("dropout: the rate must be in [0, 1) (at least 0, below 1; 0 turns it off), got \(s)") }
        return v == 0 ? nil : v
    }

    /// `clip NORM|off`: NORM > 0 (and within Float's range), or off (nil).
    static func parseClip(_ s: String) throws -> Double? {
        if ["off", "none"].contains(s.lowercased()) { return nil }
        guard let v = Double(s), v.isFinite else { throw CommandError("clip: give a norm > 0, or off, got `\(s.prefix(30))`") }
        guard v > 0, v <= Double(Float.greatestFiniteMagnitude) else { throw CommandError("clip: the norm must be > 0 (or `clip off`), got \(s)") }
        return v
    }

    /// `batchnorm on|off`: true for on, nil for off (the same configuration as never set).
    static func parseBatchNorm(_ s: String) throws -> Bool? {
        switch s.lowercased() {
        case "on", "true", "1": return true
        case "off", "false", "0": return nil
        default: throw CommandError("batchnorm: on or off, got `\(s.prefix(30))`", usage: "batchnorm on|off")
        }
    }

    static func parseSchedule(_ a: [String]) throws -> Schedule? {
        let u = schedule.usage
        guard let head = a.first?.lowercased() else { throw CommandError("schedule: which schedule?", usage: u) }
        switch head {
        case "none", "off", "constant":
            guard a.count == 1 else { throw CommandError("schedule \(head): takes nothing more", usage: u) }
            return nil
        case "cosine":
            guard a.count == 1 else { throw CommandError("schedule cosine: takes nothing more (the plan is `set schedule.epochs E`)", usage: u) }
            return .cosine
        case "step":
            guard a.count == 3 else { throw CommandError("schedule step: give EVERY (epochs, ≥ 1) and FACTOR (in (0, 1]), e.g. `schedule step 5 0.5`", usage: u) }
            guard let every = Int(a[1]), every >= 1, every <= 100_000 else {
                throw CommandError("schedule step: EVERY must be a whole number of epochs from 1 to 100000, got `\(a[1].prefix(30))`", usage: u)
            }
            guard let f = Double(a[2]), f.isFinite, f > 0, f <= 1 else {
                throw CommandError("schedule step: FACTOR must be in (0, 1] (above 0, at most 1), got `\(a[2].prefix(30))`", usage: u)
            }
            return .step(every: every, factor: f)
        default:
            throw CommandError("schedule: unknown schedule `\(head.prefix(30))` (none, step EVERY FACTOR or cosine)", usage: u)
        }
    }

    /// AdamW's decay: ≥ 0, and lr·WD below 1 (else each step would flip the weights' sign).
    static func parseWeightDecay(_ s: String, lr: Double) throws -> Double {
        guard let wd = Double(s), wd.isFinite else { throw CommandError("optimizer adamw: the weight decay must be a number ≥ 0, got `\(s.prefix(30))`") }
        guard wd >= 0 else { throw CommandError("optimizer adamw: the weight decay must be ≥ 0, got \(s)") }
        guard lr * wd < 1 else {
            throw CommandError("optimizer adamw: learning rate × weight decay must be below 1 (each step multiplies the weights by 1 − lr·wd), got \(num(lr)) × \(s)")
        }
        return wd
    }
}

extension RunConfig {
    /// Why a loaded configuration's remedy settings are impossible, or nil.
    var remedyProblem: String? {
        if let l = l2, !(l.isFinite && l >= 0) { return "l2 \(l) is not ≥ 0" }
        if case .step(let e, let f)? = schedule, !(e >= 1 && f > 0 && f <= 1) { return "schedule step \(e) \(f) needs EVERY ≥ 1 and FACTOR in (0, 1]" }
        if let e = scheduleEpochs, e < 1 { return "schedule.epochs \(e) is below 1" }
        if let d = dropout, !(d >= 0 && d < 1) { return "dropout \(d) is not in [0, 1)" }
        if let c = clip, !(c > 0 && c <= Double(Float.greatestFiniteMagnitude)) { return "clip \(c) is not > 0" }
        if case .adamw(let lr, let wd) = optimizer, !(wd >= 0 && lr * wd < 1) { return "adamw weight decay \(wd) is not in [0, 1/lr)" }
        return nil
    }
}
