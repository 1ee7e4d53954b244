import Foundation
import PreflightEngine

extension Rule {
    static let updateRatio = Rule(
        id: "update-ratio", title: "update size vs weight size",
        measures: "Per weight layer, over the latest epoch: log10(‖Δw‖/‖w‖) of one optimiser step.",
        why: "Steps much larger than a thousandth of the weights make training unstable; much smaller ones make it crawl.",
        source: "cs231n (a healthy update/weight ratio is near 1e-3) and TheDeepChecker. Adam 0.001 on a Glorot MNIST network measures 1e-3 to 5e-3 per layer; SGD 0.01 about 5e-4.",
        tryThis: "Too large: lower the learning rate. Too small: raise it.",
        settings: [.level("warn-low", -4, "warn when log10 ratio is below this"),
                   .level("warn-high", -1, "warn when log10 ratio is above this"),
                   .level("fail-low", -5, "fail when log10 ratio is below this"),
                   .level("fail-high", 0, "fail when log10 ratio is above this")],
        evaluate: { $0.updateRatio() })
}

private extension RuleContext {
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
}
