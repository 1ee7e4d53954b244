import Foundation
import PreflightEngine

/// The checks: the catalog, evaluation and explanations.
public enum Rules {
    /// Every rule, in listing order.
    public static let all: [RuleInfo] = catalog.map(\.info)

    /// Every rule id, in listing order.
    public static var ids: [String] { all.map(\.id) }

    /// The rule with this id (case-insensitive, an optional "check." prefix allowed).
    public static func info(_ id: String) -> RuleInfo? { spec(normalize(id))?.info }

    static func normalize(_ id: String) -> String {
        var k = id.trimmingWhitespace().lowercased().replacingOccurrences(of: "_", with: "-")
        if k.hasPrefix("check.") { k.removeFirst(6) }
        return k
    }

    /// Runs the rules (all, or those in `only`; unknown ids are ignored) and ranks the findings:
    /// fail first, then warn, not-run, ok; within a verdict in the order of `all`.
    public static func evaluate(_ input: CheckInput, thresholds: Thresholds, only: [String]? = nil) -> [Finding] {
        let wanted = only.map { Set($0.map(normalize)) }
        var out: [Finding] = []
        for r in catalog {
            let id = r.info.id
            if let wanted, !wanted.contains(id) { continue }
            let c = Ctx(input: input, t: thresholds, rule: id)
            var f: Finding
            if !thresholds.isEnabled(id) {
                f = c.notRun("disabled by set check.\(id) off")
            } else {
                f = c.run()
            }
            if f.verdict == .ok { f.hint = "" }
            if f.verdict != .notRun { f.reason = "" }
            if let v = f.value, !v.isFinite { f.value = nil }
            if let v = f.threshold, !v.isFinite { f.threshold = nil }
            out.append(f)
        }
        return out.enumerated().sorted { a, b in
            a.element.verdict != b.element.verdict ? a.element.verdict > b.element.verdict : a.offset < b.offset
        }.map(\.element)
    }

    /// What the rule measures, why it matters, where its thresholds come from (with the values in
    /// force under the default settings), and what to try. nil for an unknown rule.
    public static func explain(_ id: String) -> String? { explain(id, thresholds: .defaults) }

    /// `explain` with the session's thresholds in force.
    public static func explain(_ id: String, thresholds: Thresholds) -> String? {
        guard let s = spec(normalize(id)) else { return nil }
        let i = s.info
        let d = Thresholds.defaults
        var lines: [String] = []
        lines.append("\(i.id) — \(i.title)" + (thresholds.isEnabled(i.id) ? "" : "  [off: set check.\(i.id) on]"))
        lines.append("Measures: \(i.measures)")
        lines.append("Why it matters: \(i.why)")
        lines.append("Source: \(i.source)")
        if s.params.isEmpty {
            lines.append("Thresholds: none; the rule only has check.\(i.id) on|off (now \(thresholds.describe("check.\(i.id)"))).")
        } else {
            lines.append("Thresholds in force (set check.\(i.id).NAME VALUE):")
            let width = s.params.map { "check.\(i.id).\($0.name) = \(thresholds.describe("check.\(i.id).\($0.name)"))".count }.max() ?? 0
            for p in s.params {
                let key = "check.\(i.id).\(p.name)"
                let now = thresholds.describe(key), def = d.describe(key)
                var l = "\(key) = \(now)"
                l += String(repeating: " ", count: max(0, width - l.count)) + "  \(p.doc)"
                if now != def { l += " (default \(def))" }
                lines.append("  " + l)
            }
        }
        lines.append("Try: \(i.tryThis)")
        return lines.joined(separator: "\n")
    }
}

// MARK: - Evaluation

private let noFirstBatch = "no first batch recorded (train, or check before training probes one)"

private func phase(_ e: EpochRecord) -> String { "epoch \(e.epoch)" }
private func phase(_ es: some Collection<EpochRecord>) -> String {
    guard let a = es.first, let b = es.reversed().first else { return "epochs" }
    return a.epoch == b.epoch ? "epoch \(a.epoch)" : "epochs \(a.epoch)-\(b.epoch)"
}

/// Higher is worse. `strict`: the value must exceed the threshold (else reach it).
private func gradeHigh(_ v: Double, warn: Double?, fail: Double?, strict: Bool) -> (Verdict, Double?) {
    if v.isNaN { return (.fail, fail ?? warn) }
    func hit(_ t: Double) -> Bool { strict ? v > t : v >= t }
    if let f = fail, hit(f) { return (.fail, f) }
    if let w = warn, hit(w) { return (.warn, w) }
    return (.ok, warn ?? fail)
}

/// Lower is worse: the value must fall below the threshold.
private func gradeLow(_ v: Double, warn: Double?, fail: Double?) -> (Verdict, Double?) {
    if v.isNaN { return (.fail, fail ?? warn) }
    if let f = fail, v < f { return (.fail, f) }
    if let w = warn, v < w { return (.warn, w) }
    return (.ok, warn ?? fail)
}

/// The worst of several phases' findings; not-run ones only count when nothing ran. Ties go to the later one.
private func worst(_ fs: [Finding]) -> Finding? {
    let ran = fs.filter { $0.verdict != .notRun }
    guard !ran.isEmpty else { return fs.first }
    var best = ran[0]
    for f in ran.dropFirst() where f.verdict >= best.verdict { best = f }
    return best
}

private func isConstant(_ i: Initializer) -> Bool {
    switch i {
    case .zeros: return true
    case .normal(let s), .truncnormal(let s), .uniform(let s): return s == 0
    default: return false
    }
}

private func isReluLike(_ a: Activation) -> Bool { a == .relu || a == .leakyRelu || a == .elu }

struct Ctx {
    let input: CheckInput
    let t: Thresholds
    let rule: String

    func p(_ name: String) -> Double? { t.value("\(rule).\(name)") }

    func notRun(_ reason: String, phase: String = "") -> Finding {
        Finding(rule: rule, phase: phase, value: nil, threshold: nil, verdict: .notRun, measured: "", hint: "", reason: reason)
    }

    func make(_ phase: String, _ value: Double?, _ graded: (Verdict, Double?), _ measured: String, hint: String) -> Finding {
        Finding(rule: rule, phase: phase, value: value, threshold: graded.1, verdict: graded.0, measured: measured, hint: hint)
    }

    var classes: Int { (input.classes ?? 0) > 0 ? input.classes! : 0 }
    var lnC: Double? { classes >= 2 ? log(Double(classes)) : nil }
    /// Why a rule that needs the number of classes cannot run.
    var noClasses: String {
        input.classes == nil ? "\(input.source) gives no number of classes (a regression model?)"
                             : "needs the number of classes (2 or more); load data first"
    }
    /// Hidden layers: from the widths, or else from the recorded hidden statistics.
    var hiddenCount: Int {
        if let l = input.layers { return max(0, l.count - 2) }
        return max(input.firstBatch?.hidden.count ?? 0, lastWithHidden?.hidden.count ?? 0)
    }
    /// Why an activation rule cannot run when the activation is unknown.
    var unknownActivation: String {
        if let a = input.activationName { return "activation \(a) is not one the rule knows (\(Activation.allCases.map(\.rawValue).joined(separator: ", ")))" }
        return "\(input.source) names no single hidden activation (config.activation)"
    }
    /// The last epoch with hidden statistics / weight-layer records. Preflight records them every epoch; a probe
    /// that samples every N steps may have none in a short epoch, so the latest epoch that has them is judged.
    var lastWithHidden: EpochRecord? { input.epochs.last { !$0.hidden.isEmpty } }
    var lastWithLayers: EpochRecord? { input.epochs.last { !$0.layers.isEmpty } }
    /// Why a first-batch rule cannot run: nothing probed yet in a session; a record written without one.
    var noFirstBatch: String {
        input.source == "the session" ? PreflightChecks.noFirstBatch : "\(input.source) has no first_batch"
    }
    /// Why a curve rule cannot run when the train loss is missing.
    var noTrainLoss: String { "\(input.source)'s epochs have no train_loss" }
    /// Top of the usual learning-rate range for the optimiser, and its customary default.
    var usualLR: (top: Double, standard: Double) {
        switch input.optimizer { case .sgd?: return (1, 0.01); case .adam?, .adamw?, .rmsprop?, nil: return (0.01, 0.001) }
    }
    /// The optimiser command with the learning rate times `f`; when lowering a rate far above the usual
    /// range, the customary default instead (adam 10 → adam 0.001, not adam 1).
    func lower(_ f: Double = 0.1) -> String {
        guard let o = input.optimizer else { return "a learning rate \(f < 1 ? "\(num(1 / f))× lower" : "\(num(f))× higher")" }
        let lr = o.learningRate
        if f < 1 && lr * f > usualLR.top { return optimizerCommand(o, lrTimes: usualLR.standard / lr) }
        return optimizerCommand(o, lrTimes: f)
    }
    /// "raise the learning rate, e.g. …", unless it is already at the top of the usual range.
    func raise() -> String {
        guard let o = input.optimizer else { return "raise the learning rate, e.g. 10×" }
        if o.learningRate * 10 <= usualLR.top { return "raise the learning rate, e.g. \(lower(10))" }
        return "the learning rate (\(param(o.learningRate))) is already high: look at dead-units, grad-vanish and the init"
    }
    var initIsConstant: Bool { input.initializers.contains(where: isConstant) }

    func run() -> Finding {
        switch rule {
        case "saturation": return saturation()
        case "hidden-scale": return hiddenScale()
        case "init-loss": return initLoss()
        case "dead-units": return deadUnits()
        case "symmetry": return symmetry()
        case "act-saturation": return actSaturation()
        case "grad-vanish": return gradient(vanish: true)
        case "grad-explode": return gradient(vanish: false)
        case "update-ratio": return updateRatio()
        case "nonfinite": return nonfinite()
        case "input-range": return inputRange()
        case "output-units": return outputUnits()
        case "class-balance": return classBalance()
        case "loss-trend": return lossTrend()
        case "divergence": return divergence()
        case "oscillation": return oscillation()
        case "slow": return slow()
        case "overfitting": return overfitting()
        default: return notRun("unknown rule")
        }
    }

    // MARK: first batch

    func saturation() -> Finding {
        guard let fb = input.firstBatch else { return notRun(noFirstBatch) }
        guard input.classes != nil else { return notRun(noClasses + ": softmax saturation is about class outputs") }
        let v = fb.saturatedFraction, e = param(input.epsilon)
        let g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: false)
        return make("first-batch", v, g,
                    "\(pct(v)) of softmax outputs < \(e) or > 1-\(e) (\(pct(fb.lowFraction)) low, \(pct(fb.highFraction)) high; \(plural(fb.batchSize, "sample")))",
                    hint: "use init glorot (or init he for relu) and inputs in [0,1]: the untrained logits are far too large")
    }

    func hiddenScale() -> Finding {
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        let growth = p("growth") ?? 1.5
        func judge(_ stats: [LayerStats], phase: String, atInit: Bool) -> Finding {
            let means = stats.map(\.mean)
            guard means.allSatisfy(\.isFinite) else {
                return notRun("hidden means are not finite (see nonfinite)", phase: phase)
            }
            let m = means.map(abs)
            let last = m.last!, top = m.max()!
            let running = m.count >= 2 && zip(m, m.dropFirst()).allSatisfy { $0 > 0 && $1 >= growth * $0 }
            let warn = p(atInit ? "warn" : "epoch-warn"), fail = p(atInit ? "fail" : "epoch-fail")
            var g: (Verdict, Double?) = (.ok, warn ?? fail)
            var value = top, ofLast = false
            if let f = fail, last > f { g = (.fail, f); value = last; ofLast = true }
            else if running, let w = warn, last > w { g = (.fail, w); value = last; ofLast = true }
            else if let w = warn, top > w { g = (.warn, w) }
            var text = "hidden-layer means " + list(means) + (atInit ? " on the first batch" : " over \(phase)")
            // The thresholds apply to sizes: with a negative mean, say which size the table shows.
            if means.contains(where: { $0 < 0 }) {
                text += ofLast ? " (the last layer's |mean| is \(num(value)))" : " (largest |mean| \(num(value)))"
            }
            if running && g.0 != .ok { text += ", each ≥\(num(growth))× the layer before (running away)" }
            let hint = atInit ? "use init glorot (or init he for relu) and inputs in [0,1]"
                              : "lower the learning rate, e.g. \(lower())"
            return make(phase, value, g, text, hint: hint)
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.hidden.isEmpty { fs.append(judge(fb.hidden, phase: "first-batch", atInit: true)) }
        if let e = lastWithHidden { fs.append(judge(e.hidden, phase: phase(e), atInit: false)) }
        return worst(fs) ?? notRun(noFirstBatch)
    }

    func initLoss() -> Finding {
        guard let fb = input.firstBatch else { return notRun(noFirstBatch) }
        guard let lnC else { return notRun(classes == 1 ? "needs 2 or more classes, the data have 1" : noClasses) }
        guard fb.loss.isFinite else {
            return make("first-batch", nil, (.fail, p("fail")), "first-batch loss is \(num(fb.loss))",
                        hint: "use init glorot and inputs in [0,1]; keep epsilon above 0")
        }
        let v = abs(fb.loss - lnC) / lnC
        let g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: true)
        let hint = fb.loss > lnC ? "use init glorot (or init he for relu): the untrained network is confidently wrong"
                                 : "the loss starts below chance: check the labels, and start from fresh weights (run NAME)"
        return make("first-batch", v, g,
                    "first-batch loss \(num(fb.loss)) vs ln(\(classes)) = \(num(lnC)): off by \(pct(v)) of ln(\(classes))",
                    hint: hint)
    }

    func deadUnits() -> Finding {
        guard let act = input.activation else { return notRun(unknownActivation) }
        guard isReluLike(act) else {
            return notRun("activation \(act.rawValue) has no dead units (relu-like activations only)")
        }
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        guard !input.missing.contains(.deadFraction) else { return notRun("\(input.source)'s hidden statistics have no dead_fraction") }
        let minBatch = Int(p("min-batch") ?? 32)
        func judge(_ stats: [LayerStats], phase: String, over: String, atInit: Bool) -> Finding {
            let dead = stats.map(\.deadFraction)
            let k = dead.indices.max { dead[$0] < dead[$1] || (dead[$0].isNaN && !dead[$1].isNaN) }!
            let v = dead[k]
            let g = gradeHigh(v, warn: p(atInit ? "init-warn" : "warn"), fail: p("fail"), strict: false)
            var text = "\(pct(v)) of hidden layer \(k + 1)'s units never active \(over)"
            if dead.count > 1 { text += " (layers: \(list(dead, pct)))" }
            let hint: String
            if initIsConstant { hint = "weights start at 0: use init he or init glorot" }
            else if atInit { hint = "use init he (or glorot) and inputs in [0,1], or activation leaky_relu" }
            else { hint = "lower the learning rate (e.g. \(lower())) or try activation leaky_relu" }
            return make(phase, v, g, text, hint: hint)
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.hidden.isEmpty {
            if fb.batchSize >= minBatch {
                fs.append(judge(fb.hidden, phase: "first-batch", over: "on the first batch (\(plural(fb.batchSize, "sample")))", atInit: true))
            } else {
                fs.append(notRun("the first batch has \(plural(fb.batchSize, "sample")); needs \(minBatch) (check.dead-units.min-batch)",
                                 phase: "first-batch"))
            }
        }
        if let e = lastWithHidden {
            fs.append(judge(e.hidden, phase: phase(e), over: "over epoch \(e.epoch)", atInit: false))
        }
        return worst(fs) ?? notRun(noFirstBatch)
    }

    func symmetry() -> Finding {
        guard let layers = input.layers else { return notRun("\(input.source) gives no layer sizes (config.layers)") }
        let L = layers.count - 1
        guard L >= 1 else { return notRun("no layers set") }
        let inits: [Initializer]
        if input.initializers.count == L { inits = input.initializers }
        else if input.initializers.count == 1 { inits = Array(repeating: input.initializers[0], count: L) }
        else if input.initializers.isEmpty { return notRun("\(input.source) names no initialiser (config.init)") }
        else { return notRun("\(input.initializers.count) initialisers for \(L) weight layers") }
        let constant = inits.indices.filter { isConstant(inits[$0]) }
        let hiddenConstant = constant.filter { $0 < L - 1 }
        func name(_ l: Int) -> String { "weight layer \(l + 1) (\(layers[l])→\(layers[l + 1]))" }
        let hint = "use a random initialiser: init glorot (or init he for relu)"
        let value = Double(constant.count)
        if L >= 2 && constant.count == L {
            return make("init", value, (.fail, nil),
                        "all \(L) weight layers start constant: the units of each layer compute the same thing and get the same update",
                        hint: hint)
        }
        if let l = hiddenConstant.first {
            if input.activation == .relu {
                return make("init", value, (.fail, nil),
                            "\(name(l)) starts constant: with relu its units output 0 and get no gradient, ever", hint: hint)
            }
            return make("init", value, (.warn, nil),
                        "\(name(l)) starts constant: its units start identical; only the next layer's random weights tell them apart",
                        hint: hint)
        }
        if constant.contains(L - 1) {
            return make("init", value, (.ok, nil), "only the output layer starts constant (harmless: the hidden layers are random)", hint: "")
        }
        let names = Set(inits.map(\.description)).sorted().joined(separator: ", ")
        return make("init", value, (.ok, nil), "every weight layer starts random (\(names))", hint: "")
    }

    func actSaturation() -> Finding {
        guard let act = input.activation else { return notRun(unknownActivation) }
        guard act == .tanh || act == .sigmoid else {
            return notRun("activation \(act.rawValue) does not saturate (tanh and sigmoid only)")
        }
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        guard !input.missing.contains(.saturatedFraction) else { return notRun("\(input.source)'s hidden statistics have no saturated_fraction") }
        let stats: [LayerStats], ph: String, over: String
        if let fb = input.firstBatch, !fb.hidden.isEmpty { stats = fb.hidden; ph = "first-batch"; over = "on the first batch" }
        else if let e = lastWithHidden { stats = e.hidden; ph = phase(e); over = "over epoch \(e.epoch)" }
        else { return notRun(noFirstBatch) }
        let s = stats.map(\.saturatedFraction)
        let k = s.indices.max { s[$0] < s[$1] || (s[$0].isNaN && !s[$1].isNaN) }!
        let g = gradeHigh(s[k], warn: p("warn"), fail: p("fail"), strict: false)
        var text = "\(pct(s[k])) of hidden layer \(k + 1)'s outputs have |pre-activation| > 5 \(over)"
        if s.count > 1 { text += " (layers: \(list(s, pct)))" }
        return make(ph, s[k], g, text, hint: "use init glorot and inputs in [0,1], or activation relu")
    }

    // MARK: gradients and updates

    func gradient(vanish: Bool) -> Finding {
        guard (input.layers?.count ?? 0) >= 3 || (input.firstBatch?.gradNorms.count ?? 0) >= 2 || (lastWithLayers?.layers.count ?? 0) >= 2 else {
            return notRun("needs 2 or more weight layers")
        }
        func judge(_ norms: [Double], phase: String, over: String) -> Finding {
            guard norms.count >= 2 else { return notRun("needs 2 or more weight layers", phase: phase) }
            let first = norms.first!, last = norms.last!
            guard first.isFinite && last.isFinite else {
                return notRun("gradient norms are not finite (see nonfinite)", phase: phase)
            }
            let ratio = last > 0 ? first / last : (first > 0 ? .infinity : 0)
            let text = "first/last layer gradient-norm ratio \(num(ratio)) (first \(num(first)), last \(num(last))) \(over)"
            if vanish {
                var g: (Verdict, Double?) = (.ok, p("warn"))
                if let f = p("fail"), let fn = p("fail-norm"), ratio < f, first < fn { g = (.fail, f) }
                else if let w = p("warn"), let wn = p("warn-norm"), ratio < w, first < wn { g = (.warn, w) }
                else if g.1 == nil { g.1 = p("fail") }
                let hint = first == 0 && last == 0 ? "no gradient reaches any layer: see dead-units (units never active?) and symmetry"
                                                   : "use relu with init he, or fewer layers"
                return make(phase, ratio, g, text, hint: hint)
            }
            // Two norms that are both ~0 give any ratio: gradients that small vanish, they do not explode.
            if let floor = p("min-norm"), first < floor {
                return make(phase, first, (.ok, floor),
                            text + ": the first layer's norm is below min-norm \(num(floor)), too small to explode (gradients vanish: see grad-vanish and dead-units)", hint: "")
            }
            let g = gradeHigh(ratio, warn: p("warn"), fail: p("fail"), strict: true)
            return make(phase, ratio, g, text,
                        hint: "lower the learning rate (e.g. \(lower())), use init glorot or init he, and inputs in [0,1]")
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.gradNorms.isEmpty { fs.append(judge(fb.gradNorms, phase: "first-batch", over: "on the first batch")) }
        if let e = lastWithLayers {
            fs.append(judge(e.layers.map(\.gradNorm), phase: phase(e), over: "over epoch \(e.epoch)"))
        }
        return worst(fs) ?? notRun(noFirstBatch)
    }

    func updateRatio() -> Finding {
        guard let e = lastWithLayers ?? input.epochs.last else { return notRun("needs 1 epoch, have 0") }
        guard !e.layers.isEmpty else { return notRun("epoch \(e.epoch) recorded no update ratios") }
        let wl = p("warn-low"), wh = p("warn-high"), fl = p("fail-low"), fh = p("fail-high")
        let logs = e.layers.map { $0.updateRatio.isNaN ? Double.nan : log10($0.updateRatio) }
        // Per layer: verdict, the threshold crossed, and how far beyond it (for picking the worst layer).
        func grade(_ l: Double) -> (Verdict, Double?, Double) {
            if l.isNaN { return (.fail, nil, .infinity) }
            if let f = fl, l < f { return (.fail, f, f - l) }
            if let f = fh, l > f { return (.fail, f, l - f) }
            if let w = wl, l < w { return (.warn, w, w - l) }
            if let w = wh, l > w { return (.warn, w, l - w) }
            // Inside: distance to the nearer bound, negative.
            let lo = wl ?? fl, hi = wh ?? fh
            let dl = lo.map { $0 - l } ?? -.infinity, dh = hi.map { l - $0 } ?? -.infinity
            return (.ok, dl > dh ? lo : hi, max(dl, dh))
        }
        let graded = logs.map(grade)
        let k = graded.indices.max { a, b in
            let x = graded[a], y = graded[b]
            return x.0 != y.0 ? x.0 < y.0 : x.2 < y.2
        }!
        let (v, th, _) = graded[k]
        let l = logs[k]
        var text = "log10(‖Δw‖/‖w‖) \(num(l)) in weight layer \(k + 1) over epoch \(e.epoch)"
        if logs.count > 1 { text += " (layers: \(list(logs)))" }
        let hint: String
        if l.isNaN { hint = "the update ratio is not finite: see nonfinite" }
        else if l == .infinity && initIsConstant { hint = "the weights are all 0: use init glorot (or init he for relu)" }
        else if l == -.infinity { hint = "no update at all: the gradients are 0 (see dead-units and grad-vanish)" }
        else if l > (wh ?? fh ?? 0) { hint = "lower the learning rate, e.g. \(lower())" }
        else { hint = raise() }
        return make(phase(e), l, (v, th), text, hint: hint)
    }

    // MARK: numbers and structure

    func nonfinite() -> Finding {
        let hint = "lower the learning rate (e.g. \(lower())) and scale inputs to [0,1] (data … --scale unit)"
        if let ev = input.nonFinite {
            return make("epoch \(ev.epoch)", 1, (.fail, nil),
                        "NaN/Inf first in \(ev.layer) at the \(ev.stage) stage, epoch \(ev.epoch) batch \(ev.batch); training stopped",
                        hint: hint)
        }
        if let at = input.firstBatchNonFinite {
            return make("first-batch", 1, (.fail, nil), "NaN/Inf first in the output of \(at.layer) (\(at.stage)) on the first batch",
                        hint: hint)
        }
        guard input.firstBatch != nil || !input.epochs.isEmpty else {
            return notRun("nothing recorded yet: train, or check before training probes the first batch")
        }
        var found: [(phase: String, what: String)] = []
        func stats(_ s: [LayerStats], _ ph: String) {
            for (i, h) in s.enumerated() where !(h.mean.isFinite && h.std.isFinite && h.max.isFinite) {
                found.append((ph, "hidden layer \(i + 1)'s outputs"))
            }
        }
        if let fb = input.firstBatch {
            if !fb.loss.isFinite { found.append(("first-batch", "the loss")) }
            stats(fb.hidden, "first-batch")
            for (i, g) in fb.gradNorms.enumerated() where !g.isFinite { found.append(("first-batch", "weight layer \(i + 1)'s gradient")) }
        }
        for e in input.epochs {
            let ph = phase(e)
            if !e.trainLoss.isFinite && !input.missing.contains(.trainLoss) { found.append((ph, "the train loss")) }
            if let t = e.testLoss, !t.isFinite { found.append((ph, "the test loss")) }
            stats(e.hidden, ph)
            for (i, l) in e.layers.enumerated() where !l.gradNorm.isFinite { found.append((ph, "weight layer \(i + 1)'s gradient")) }
        }
        if let f = found.first {
            let more = found.count > 1 ? " (\(found.count) non-finite values in all)" : ""
            return make(f.phase, Double(found.count), (.fail, nil), "\(f.what) is NaN/Inf in \(f.phase)\(more)", hint: hint)
        }
        let scope = [input.firstBatch != nil ? "first batch" : nil,
                     input.epochs.isEmpty ? nil : "\(input.epochs.count) epoch\(input.epochs.count == 1 ? "" : "s")"]
            .compactMap { $0 }.joined(separator: ", ")
        let ph = input.epochs.isEmpty ? "first-batch" : (input.firstBatch != nil ? "first-batch, " : "") + phase(input.epochs)
        return make(ph, 0, (.ok, nil), "losses, hidden statistics and gradient norms all finite (\(scope))", hint: "")
    }

    func inputRange() -> Finding {
        var lo = input.dataInputMin, hi = input.dataInputMax
        var over = "over the training set" + (input.dataName.map { " of `\($0)`" } ?? "")
        if !(lo.isFinite && hi.isFinite) {
            guard let fb = input.firstBatch, fb.inputMin.isFinite, fb.inputMax.isFinite else {
                return notRun(input.source == "the session" ? "the run's data are unknown: load them (data …)" : "\(input.source) holds no input range (first_batch.input_min, input_max)")
            }
            lo = fb.inputMin; hi = fb.inputMax; over = "on the first batch"
        }
        let v = max(abs(lo), abs(hi))
        if input.dataScale == "standard" {
            // Standardised by the data's own training statistics: |z| of a few units is the point, not a problem.
            let g = gradeHigh(v, warn: p("standard-warn"), fail: p("standard-fail"), strict: true)
            return make("static", v, g, "standardised inputs (training mean 0, std 1 per feature) in [\(num(lo)), \(num(hi))] \(over): largest |z| \(num(v))",
                        hint: "a few samples lie far out: look for outliers or data errors, or use --scale unit")
        }
        let hint = input.dataIsImage ? "scale inputs to [0,1] (data … --scale unit)"
            : "scale the features: data … --scale standard (or --scale unit)"
        let g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: true)
        return make("static", v, g, "inputs in [\(num(lo)), \(num(hi))] \(over): largest |input| \(num(v))",
                    hint: hint)
    }

    func classBalance() -> Finding {
        guard let train = input.trainClassCounts, !train.isEmpty else { return notRun("this run's data are not loaded") }
        let test = input.testClassCounts ?? []
        func name(_ k: Int) -> String {
            if let n = input.classNames, k < n.count { return "\(k) (\(n[k]))" }
            return "\(k)"
        }
        func list(_ ks: [Int]) -> String { ks.prefix(6).map(name).joined(separator: ", ") + (ks.count > 6 ? ", … (\(ks.count) in all)" : "") }
        let unseen = test.indices.filter { test[$0] > 0 && ($0 >= train.count || train[$0] == 0) }
        if !unseen.isEmpty {
            let n = unseen.reduce(0) { $0 + test[$1] }
            return make("static", Double(unseen.count), (.fail, 0),
                        "class\(unseen.count == 1 ? "" : "es") \(list(unseen)) occur\(unseen.count == 1 ? "s" : "") in the test split (\(n) sample\(n == 1 ? "" : "s")) but never in training",
                        hint: "fix the labels, or draw the split per class (data … --test FRACTION)")
        }
        let empty = train.indices.filter { train[$0] == 0 }
        if !empty.isEmpty {
            return make("static", Double(empty.count), (.warn, 0),
                        "class\(empty.count == 1 ? "" : "es") \(list(empty)) \(empty.count == 1 ? "has" : "have") no training samples (\(train.count) classes)",
                        hint: "check the labels: classes without samples are outputs the network can never learn")
        }
        let hi = train.indices.max { train[$0] < train[$1] }!, lo = train.indices.min { train[$0] < train[$1] }!
        let ratio = Double(train[hi]) / Double(train[lo])
        let g = gradeHigh(ratio, warn: p("warn"), fail: p("fail"), strict: true)
        return make("static", ratio, g,
                    "largest training class \(num(ratio))× the smallest: class \(name(hi)) has \(train[hi]) samples, class \(name(lo)) \(train[lo])",
                    hint: "collect or resample data for the rare classes, or weigh them; watch per-class accuracy rather than the overall figure")
    }

    func outputUnits() -> Finding {
        guard let out = input.outputs else {
            return notRun(input.layers == nil ? "\(input.source) gives no output width (first_batch.outputs or config.layers)" : "no layers set")
        }
        guard classes > 0 else {
            return notRun(input.classes == nil ? noClasses : "the number of classes is unknown: load the run's data (data …)")
        }
        let fix = input.layers.map { "layers " + ($0.dropLast().map(String.init) + [String(classes)]).joined(separator: " ") }
            ?? "make the model's last layer \(classes) wide"
        let text = "\(out) output units for \(classes) classes"
        if out < classes {
            return make("static", Double(out), (.fail, Double(classes)), text + ": \(classes - out) classes can never be predicted", hint: fix)
        }
        if out > classes {
            return make("static", Double(out), (.warn, Double(classes)), text + ": \(out - classes) outputs have no class", hint: fix)
        }
        return make("static", Double(out), (.ok, Double(classes)), text, hint: "")
    }

    // MARK: curves

    /// Moves of the train loss smaller than this are noise, whatever their relative size.
    var lossFloor: Double { 0.01 * (lnC ?? log(10)) }

    func lossTrend() -> Finding {
        let es = input.epochs
        guard es.count >= 2 else { return notRun("needs 2 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let a = es.first!.trainLoss, b = es.last!.trainLoss
        let hint = "check the learning rate (\(lower()) if the loss jumps, \(lower(10)) if it is flat), the init (init glorot) and inputs in [0,1]"
        guard a.isFinite && b.isFinite else {
            return make(phase(es), nil, (.fail, p("fail")), "train loss \(num(a)) → \(num(b)) over \(phase(es))", hint: hint)
        }
        let v = a > 0 ? (b - a) / a : 0
        var text = "train loss \(num(a)) → \(num(b)) over \(phase(es)) (\(signedPct(v)))"
        var g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: false)
        if g.0 != .ok && b < lossFloor {
            g = (.ok, p("warn")); text += "; already near 0"
        }
        return make(phase(es), v, g, text, hint: hint)
    }

    func divergence() -> Finding {
        let es = input.epochs
        guard !es.isEmpty else { return notRun("needs 1 epoch, have 0") }
        let hint = "lower the learning rate, e.g. \(lower())"
        guard !input.missing.contains(.trainLoss) else {
            if let ev = input.nonFinite {
                return make("epoch \(ev.epoch)", nil, (.fail, nil),
                            "training stopped on NaN/Inf in epoch \(ev.epoch), batch \(ev.batch) (\(ev.layer), \(ev.stage))", hint: hint)
            }
            return notRun(noTrainLoss)
        }
        if let bad = es.first(where: { !$0.trainLoss.isFinite }) {
            return make(phase(bad), nil, (.fail, nil), "train loss became \(num(bad.trainLoss)) in epoch \(bad.epoch)", hint: hint)
        }
        if let ev = input.nonFinite {
            return make("epoch \(ev.epoch)", nil, (.fail, nil),
                        "training stopped on NaN/Inf in epoch \(ev.epoch), batch \(ev.batch) (\(ev.layer), \(ev.stage))", hint: hint)
        }
        // The start (the first batch's loss, before any update) counts as the loss before epoch 1.
        var points: [(label: String, loss: Double)] = []
        if let fb = input.firstBatch, fb.loss.isFinite { points.append(("the start", fb.loss)) }
        points += es.map { ("epoch \($0.epoch)", $0.trainLoss) }
        let last = es.last!.trainLoss
        let earlier = points.dropLast()
        let best = earlier.min { $0.loss < $1.loss }
        let minL = min(best?.loss ?? last, last)
        let ratio = minL > 0 ? last / minL : (last > 0 ? .infinity : 1)
        var g = gradeHigh(ratio, warn: p("warn"), fail: p("fail"), strict: false)
        let bestText = last <= minL ? "its lowest so far" : "\(num(ratio))× its lowest \(num(minL)) (\(best!.label))"
        var text = "train loss \(num(last)) in epoch \(es.last!.epoch) is \(bestText)"
        if g.0 != .ok && last - minL < lossFloor { g = (.ok, p("warn")); text += "; the rise is below \(num(lossFloor)), ignored" }
        var f = make(phase(es), ratio, g, text, hint: hint)
        if let lnC, let chance = p("chance"), let best, last > chance * lnC, last > best.loss {
            let times = last / lnC
            f = make(phase(es.last!), times, (.fail, chance),
                     "train loss \(num(last)) in epoch \(es.last!.epoch) is \(num(times))× ln(\(classes)) = \(num(lnC)) (worse than guessing) and above \(num(best.loss)) (\(best.label)): training made the network worse",
                     hint: hint)
        }
        return f
    }

    func oscillation() -> Finding {
        let es = input.epochs
        guard es.count >= 4 else { return notRun("needs 4 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let losses = es.map(\.trainLoss)
        guard losses.allSatisfy(\.isFinite) else { return notRun("the train loss is not finite (see divergence)") }
        let minChange = p("min-change") ?? 0.01
        var signs: [Int] = []
        for i in 1..<losses.count {
            let d = losses[i] - losses[i - 1]
            if abs(d) >= minChange * max(losses[i - 1], 10 * lossFloor) { signs.append(d > 0 ? 1 : -1) }
        }
        let possible = losses.count - 2
        let flips = signs.count >= 2 ? zip(signs, signs.dropFirst()).filter { $0 != $1 }.count : 0
        let share = Double(flips) / Double(possible)
        var g = gradeHigh(share, warn: p("warn"), fail: p("fail"), strict: false)
        if flips < 2 { g = (.ok, p("warn")) }
        let bs = input.firstBatch.map { "batch \($0.batchSize * 2)" } ?? "a larger batch"
        return make(phase(es), share, g,
                    "\(flips) of \(possible) successive train-loss moves change direction (\(pct(share))) over \(phase(es))",
                    hint: "lower the learning rate (e.g. \(lower())) or use a larger batch (\(bs))")
    }

    func slow() -> Finding {
        let es = input.epochs
        guard es.count >= 3 else { return notRun("needs 3 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let w = es.suffix(3)
        let a = w.first!.trainLoss, b = w.last!.trainLoss
        guard a.isFinite && b.isFinite else { return notRun("the train loss is not finite (see divergence)") }
        let imp = a > 0 ? (a - b) / a / Double(w.count - 1) : 0
        let acc = w.last!.trainAccuracy
        let accLimit = p("accuracy") ?? 0.9
        var text = "train loss \(imp < 0 ? "rose" : "fell") \(pct(abs(imp))) per epoch over \(phase(w)) (\(num(a)) → \(num(b)))"
            + (acc.isNaN ? "" : ", train accuracy \(pct(acc))")
        var g = gradeLow(imp, warn: p("warn"), fail: p("fail"))
        if acc >= accLimit {
            if g.0 != .ok { text += " ≥ \(pct(accLimit)): not judged" }
            g = (.ok, p("warn"))
        }
        let hint: String
        if case .sgd? = input.optimizer { hint = "use optimizer adam 0.001, or \(raise())" }
        else if let o = input.optimizer, o.learningRate * 10 <= usualLR.top { hint = "\(raise()), or fix the init (init glorot / init he)" }
        else { hint = "lower the learning rate (e.g. \(lower())): units may have died (see dead-units)" }
        return make(phase(w), imp, g, text, hint: hint)
    }

    func overfitting() -> Finding {
        // A record may hold a test loss without a test accuracy: the loss decides, the accuracy gap needs both.
        let te = input.epochs.filter { $0.testLoss?.isFinite ?? false }
        guard te.count >= 3 else {
            return notRun(te.count == input.epochs.count ? "needs 3 epochs, have \(te.count)"
                                                         : "needs 3 epochs with a test loss, have \(te.count)")
        }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let tl = te.map { $0.testLoss! }
        let k = tl.indices.min { tl[$0] < tl[$1] }!
        let last = te.last!, best = te[k]
        let rise = tl[k] > 0 ? tl.last! / tl[k] - 1 : 0
        let after = te.count - 1 - k            // epochs since the lowest test loss
        let trainFell = last.trainLoss < best.trainLoss
        // The rise counts only when it is sustained (2+ epochs since the minimum) while the train loss fell.
        let riseJudged = after >= 2 && trainFell
        let gap = last.trainAccuracy - (last.testAccuracy ?? last.trainAccuracy)
        let gapLimit = p("gap")
        // A record may hold a test loss without a test accuracy: then there is no gap to show or judge.
        let hasGap = last.testAccuracy != nil
        let gapText = hasGap ? "; accuracy gap \(pct(gap)) (train \(pct(last.trainAccuracy)), test \(pct(last.testAccuracy!)))" : ""
        var lossText = after == 0 ? "test loss \(num(tl[k])) in epoch \(last.epoch) is its lowest so far"
            : "test loss \(num(tl[k])) (epoch \(best.epoch)) → \(num(tl.last!)) (epoch \(last.epoch)), \(signedPct(rise))"
        if after > 0 { lossText += "; train loss \(num(best.trainLoss)) → \(num(last.trainLoss))" }
        if after > 0 && !riseJudged {
            lossText += after < 2 ? " (a rise over 1 epoch is not judged: it must last 2 epochs or more)"
                                  : " (not judged: the train loss did not fall meanwhile)"
        }
        let earlier = after > 0 ? ", or stop at epoch \(best.epoch) (the lowest test loss)" : ""

        // A sustained rise of the test loss while the train loss falls.
        let riseGrade: (Verdict, Double?) = riseJudged ? gradeHigh(rise, warn: p("warn"), fail: p("fail"), strict: false) : (.ok, nil)
        if riseGrade.0 != .ok {
            return make(phase(te), rise, riseGrade, "\(lossText)\(gapText)",
                        hint: "stop earlier: the test loss was lowest at epoch \(best.epoch) and has risen since while the train loss fell; or use a smaller network or more data")
        }
        // Train accuracy far above test accuracy.
        if hasGap, let gt = gapLimit, gap > gt {
            return make(phase(te), gap, (.warn, gt), "\(gapText.dropFirst(2)), above \(pct(gt)); \(lossText)",
                        hint: "the network fits its training set much better than the test set (accuracy gap): use a smaller network or more data\(earlier)")
        }
        // Nothing fired: the table shows what was compared with its own threshold.
        if riseJudged {
            return make(phase(te), rise, (.ok, p("warn") ?? p("fail")), "\(lossText)\(gapText)", hint: "")
        }
        // Neither a judged rise nor a gap: nothing was compared, so no value is shown against a threshold.
        guard hasGap else { return make(phase(te), nil, (.ok, nil), lossText, hint: "") }
        return make(phase(te), gap, (.ok, gapLimit), "\(gapText.dropFirst(2)); \(lossText)", hint: "")
    }
}
