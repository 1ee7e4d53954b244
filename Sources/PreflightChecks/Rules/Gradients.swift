import PreflightEngine

extension Rule {
    static let gradVanish = Rule(
        id: "grad-vanish", title: "vanishing gradients",
        measures: "The ratio of the first layer's weight-gradient norm to the last layer's, on the first batch and in the latest epoch; it counts only when the first layer's norm is itself tiny. Also the largest layer's gradient norm against `all-warn`: gradients that are tiny in every layer keep the ratio near 1 (not judged once the loss is below a tenth of ln C: a network that has learned its task has small gradients).",
        why: "When almost no gradient reaches the first layers they stop learning while the last layer does all the work.",
        source: "AUTOTRAINER: ratio below 1e-3 with the first layer's norm below 1e-4. The warn level is ten times each. all-warn, 1e-4, is AUTOTRAINER's level for a vanished norm, applied to every layer: the fault zoo's healthy controls never had all layers below 7e-3 (at any phase, even converged), while weights of std 0.01 in 6 layers give 2e-7–4e-7 in every layer on the first batch (faults/NOTES.md).",
        tryThis: "Use relu with init he, fewer layers, or a larger learning rate for deep tanh/sigmoid networks.",
        settings: [.level("warn", 1e-2, "warn when first/last is below this (and the first norm below warn-norm)", .positive),
                   .level("fail", 1e-3, "fail when first/last is below this (and the first norm below fail-norm)", .positive),
                   .knob("warn-norm", 1e-3, "first layer's gradient norm below which a warn ratio counts", .positive),
                   .knob("fail-norm", 1e-4, "first layer's gradient norm below which a fail ratio counts", .positive),
                   .level("all-warn", 1e-4, "warn when every weight layer's gradient norm is below this, whatever the ratio (while the loss is above a tenth of ln C)", .positive)],
        evaluate: { $0.gradient(vanish: true) })

    static let gradExplode = Rule(
        id: "grad-explode", title: "exploding gradients",
        measures: "The ratio of the first layer's weight-gradient norm to the last layer's, on the first batch and in the latest epoch; it counts only when the first layer's norm is at least `min-norm` (below it the table shows that norm against min-norm, verdict ok). Also the largest layer's gradient norm against `norm-warn`: gradients that are huge in every layer keep the ratio near 1.",
        why: "Gradients that grow on their way down make the first layers' updates huge: the loss jumps around or becomes NaN. Two norms that are both close to 0 can have any ratio: that is a vanishing gradient (grad-vanish), not an explosion.",
        source: "AUTOTRAINER: ratio above 70. The warn level, 20, is Preflight's choice: healthy MLPs on MNIST measure about 1–2, unscaled inputs far more. The floor, 1e-4, is AUTOTRAINER's own level for a first-layer norm that has vanished (grad-vanish's fail-norm). norm-warn, 50, is calibrated on the fault zoo: healthy controls' largest norm was 6.9, raw pixels and weights far too large gave 440–2200 in every layer at a ratio near 1 (faults/RESULTS.md).",
        tryThis: "Lower the learning rate, use init glorot or init he, scale inputs to [0,1].",
        settings: [.level("warn", 20, "warn when first/last is above this", .positive),
                   .level("fail", 70, "fail when first/last is above this", .positive),
                   .level("norm-warn", 50, "warn when any weight layer's gradient norm is above this, whatever the ratio", .positive),
                   .knob("min-norm", 1e-4, "judge the ratio only when the first layer's gradient norm is at least this", .positive)],
        evaluate: { $0.gradient(vanish: false) })
}

private extension RuleContext {
    func gradient(vanish: Bool) -> Finding {
        guard (input.layers?.count ?? 0) >= 3 || (input.firstBatch?.gradNorms.count ?? 0) >= 2 || (lastWithLayers?.layers.count ?? 0) >= 2 else {
            return notRun("needs 2 or more weight layers")
        }
        func judge(_ norms: [Double], phase: String, over: String, loss: Double) -> Finding {
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
                // Tiny in every layer: the ratio stays near 1, the norms themselves give it away. A network whose
                // loss is already near 0 has learned its task; small gradients are then expected.
                let learned = lnC.map { loss.isFinite && loss < 0.1 * $0 } ?? false
                if g.0 == .ok, let nw = p("all-warn"), !learned, norms.allSatisfy(\.isFinite), let top = norms.max(), top < nw {
                    let k = norms.firstIndex(of: top)! + 1
                    return make(phase, top, (.warn, nw),
                                "largest gradient norm \(num(top)) (weight layer \(k)) \(over), below \(num(nw)) in every layer; \(text)",
                                hint: "weights too small for the depth: use init he (relu) or init glorot rather than a tiny init, or fewer layers")
                }
                return make(phase, ratio, g, text, hint: hint)
            }
            // Two norms that are both ~0 give any ratio: gradients that small vanish, they do not explode.
            if let floor = p("min-norm"), first < floor {
                return make(phase, first, (.ok, floor),
                            text + ": the first layer's norm is below min-norm \(num(floor)), too small to explode (gradients vanish: see grad-vanish and dead-units)", hint: "")
            }
            let g = gradeHigh(ratio, warn: p("warn"), fail: p("fail"), strict: true)
            let hint = "lower the learning rate (e.g. \(lower())), use init glorot or init he, and inputs in [0,1]"
            // Huge in every layer: the ratio stays near 1, the norms themselves give it away.
            if g.0 == .ok, let nw = p("norm-warn"), let top = norms.filter(\.isFinite).max(), top > nw {
                let k = norms.firstIndex(of: top)! + 1
                return make(phase, top, (.warn, nw),
                            "largest gradient norm \(num(top)) (weight layer \(k)) \(over), above \(num(nw)); \(text)", hint: hint)
            }
            return make(phase, ratio, g, text, hint: hint)
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.gradNorms.isEmpty { fs.append(judge(fb.gradNorms, phase: "first-batch", over: "on the first batch", loss: fb.loss)) }
        if let e = lastWithLayers {
            fs.append(judge(e.layers.map(\.gradNorm), phase: phase(e), over: "over epoch \(e.epoch)", loss: e.trainLoss))
        }
        return worst(fs) ?? notRun(noFirstBatch)
    }
}
