import PreflightEngine

extension Rule {
    static let deadUnits = Rule(
        id: "dead-units", title: "dead relu units",
        measures: "For relu-like activations (relu, leaky_relu, elu): the share of a hidden layer's units that were never active (output never above 0) on the first batch, or over the whole latest epoch. Each level is raised by `allowance` standard errors of a share of the layer's n units (p + allowance·√(p(1−p)/n)): 4 dead units of 16 is a noisier 25% than 64 of 256. The layer furthest above its level counts.",
        why: "A unit that is never active passes no gradient (relu) and stops learning for good; a layer full of them is wasted capacity, or a broken network.",
        source: "DeepDiagnosis, AUTOTRAINER and TheDeepChecker all check for dying relus. Healthy Glorot/He networks on MNIST measured at most 6% over an epoch of 60000 samples; init zeros gives 100%, Adam 0.01 about 23%. Over short epochs more units look dead: healthy controls of the fault zoo (2000 samples an epoch) reached 10–16%, hence a warn level of 15%. Narrow layers swing more: healthy zoo controls had 4 of 16 units (25%) and 8 of 32 never active, a 256-unit layer 16%, while the zoo's dying networks reached 50% of 16 units and 62–100% of wide layers; the allowance of 2 standard errors (warn at 33% for 16 units, 28% for 32, 21% for 128, 19% for 256) separates them (faults/NOTES.md).",
        tryThis: "Use init he or init glorot (never zeros); if units die during training, lower the learning rate or try activation leaky_relu.",
        settings: [.level("warn", 0.15, "over an epoch: warn when this share of a layer's units or more is dead", .share),
                   .level("fail", 0.5, "fail when this share of a layer's units or more is dead (first batch or epoch)", .share),
                   .level("init-warn", 0.25, "on the first batch: warn when this share or more is dead (a batch is a small sample: deep layers of healthy networks show up to ~15% on 32 samples)", .share),
                   .knob("min-batch", 32, "judge the first batch only when it has at least this many samples", 1...1e9),
                   .knob("allowance", 2, "standard errors of a share of n units added to each level for a layer of n units (0: the levels as they are, whatever the width)", 0...10)],
        evaluate: { $0.deadUnits() })
}

private extension RuleContext {
    func deadUnits() -> Finding {
        guard let act = input.activation else { return notRun(unknownActivation) }
        guard isReluLike(act) else {
            return notRun("activation \(act.rawValue) has no dead units (relu-like activations only)")
        }
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        guard !input.missing.contains(.deadFraction) else { return notRun("\(input.source)'s hidden statistics have no dead_fraction") }
        let minBatch = Int(p("min-batch") ?? 32)
        let z = p("allowance") ?? 0
        // Hidden layer k's width, when the widths are known and match the recorded statistics.
        func width(_ k: Int, of count: Int) -> Int? {
            guard let l = input.layers, l.count - 2 == count, l[k + 1] > 0 else { return nil }
            return l[k + 1]
        }
        // A level for a layer of n units: a share of few units is noisy, so it is raised by z standard errors.
        func level(_ p: Double?, _ n: Int?) -> Double? {
            guard let p, let n, z > 0 else { return p }
            return min(1, p + z * (p * (1 - p) / Double(n)).squareRoot())
        }
        func judge(_ stats: [LayerStats], phase: String, over: String, atInit: Bool) -> Finding {
            let dead = stats.map(\.deadFraction)
            let warnName = atInit ? "init-warn" : "warn"
            let graded = dead.indices.map { k -> (Verdict, Double?, Double) in
                let n = width(k, of: dead.count)
                let w = level(p(warnName), n), f = level(p("fail"), n)
                let g = gradeHigh(dead[k], warn: w, fail: f, strict: false)
                return (g.0, g.1, dead[k] - (w ?? f ?? 1))
            }
            // The worst verdict; among equals the layer furthest above (or least below) its own level.
            let k = dead.indices.max { a, b in
                let x = graded[a], y = graded[b]
                if dead[a].isNaN != dead[b].isNaN { return !dead[a].isNaN }
                return x.0 != y.0 ? x.0 < y.0 : x.2 < y.2
            }!
            let v = dead[k]
            let g = (graded[k].0, graded[k].1)
            var text = "\(pct(v)) of hidden layer \(k + 1)'s units never active \(over)"
            if dead.count > 1 { text += " (layers: \(list(dead, pct)))" }
            let base = g.0 == .fail ? p("fail") : (p(warnName) ?? p("fail"))
            if let n = width(k, of: dead.count), z > 0, let base, let t = g.1, t > base {
                text += "; level \(pct(t)) for a layer of \(n) units (\(pct(base)) plus \(num(z)) standard errors)"
            }
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
}
