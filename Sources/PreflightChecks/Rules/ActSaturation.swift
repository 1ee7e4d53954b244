import PreflightEngine

extension Rule {
    static let actSaturation = Rule(
        id: "act-saturation", title: "tanh/sigmoid saturation",
        measures: "For tanh and sigmoid: the share of hidden outputs whose pre-activation is beyond ±5, on the first batch (the latest epoch when no first batch was recorded). The worst layer counts.",
        why: "Beyond ±5 tanh and sigmoid are flat: their derivative is below 2e-4 (tanh) or 7e-3 (sigmoid), so almost no gradient reaches the layers below.",
        source: "DeepDiagnosis (saturated activations).",
        tryThis: "Use init glorot with tanh/sigmoid, inputs in [0,1], or activation relu.",
        settings: [.level("warn", 0.1, "warn when this share of outputs or more is saturated", .share),
                   .level("fail", 0.3, "fail when this share of outputs or more is saturated", .share)],
        evaluate: { $0.actSaturation() })
}

private extension RuleContext {
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
}
