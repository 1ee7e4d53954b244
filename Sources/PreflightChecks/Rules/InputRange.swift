import PreflightEngine

extension Rule {
    static let inputRange = Rule(
        id: "input-range", title: "input scaling",
        measures: "The largest absolute input value over the training set (after scaling).",
        why: "Inputs far outside [−1,1] (e.g. raw 0–255 pixels) make the first layer's outputs hundreds of times larger than the initialisers assume: saturated softmax, exploding gradients, NaN.",
        source: "UMLAUT (inputs should lie in [0,1] or [−1,1]). Inputs that merely reach a few units warn, raw pixels fail. Inputs standardised by Preflight (--scale standard: each feature has training mean 0 and std 1) are judged by their own levels: ordinary tails reach |z| of 5–15 and are fine; a |z| in the hundreds is a lone sample that dominates the first layer.",
        tryThis: "Scale inputs to [0,1]: data … --scale unit; or standardise them: data … --scale standard.",
        settings: [.level("warn", 1.01, "warn when the largest |input| is above this", .positive),
                   .level("fail", 5, "fail when the largest |input| is above this", .positive),
                   .level("standard-warn", 100, "standardised inputs (--scale standard): warn when the largest |input| (a z-score) is above this", .positive),
                   .level("standard-fail", nil, "standardised inputs: fail when the largest |input| is above this", .positive)],
        evaluate: { $0.inputRange() })
}

private extension RuleContext {
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
}
