import Foundation
import PreflightEngine

extension Rule {
    static let initLoss = Rule(
        id: "init-loss", title: "first-batch loss vs chance",
        measures: "The first batch's loss, before any update, compared with ln(classes), the loss of a network that spreads its belief evenly: |loss − ln C| in nats. Above ln C the levels are `warn` and `fail`; below it they are at most half of ln C and ln C (a loss cannot fall further than ln C below it).",
        why: "An untrained network should be unsure: about ln C (2.30 for 10 classes). A much larger loss means confident wrong predictions (weights too large); a much smaller one means the network already knows the answers (labels leak, or weights are not fresh).",
        source: "Karpathy's \"A recipe for training neural networks\" (verify the loss at init) and TheDeepChecker. Glorot networks on MNIST start at 2.3–2.5; truncated normal std 0.5 at 10–30. The excess over ln C grows with the spread of the logits, not with the number of classes, so it is measured in nats: the levels, 1.15 and 2.3, are half and all of ln 10, as the rule judged 10 classes before. Measured as a share of ln C instead, a healthy 2-class network (He, elu: 1.41 vs ln 2 = 0.69) failed (faults/NOTES.md).",
        tryThis: "Use init glorot or init he; check the labels and that the run starts from fresh weights (run NAME).",
        settings: [.level("warn", 1.15, "warn when the loss is this many nats or more above ln C (below ln C: at most half of ln C)", .positive),
                   .level("fail", 2.3, "fail when the loss is this many nats or more above ln C (below ln C: at most ln C)", .positive)],
        evaluate: { $0.initLoss() })
}

private extension RuleContext {
    func initLoss() -> Finding {
        guard let fb = input.firstBatch else { return notRun(noFirstBatch) }
        guard let lnC else { return notRun(classes == 1 ? "needs 2 or more classes, the data have 1" : noClasses) }
        guard fb.loss.isFinite else {
            return make("first-batch", nil, (.fail, p("fail")), "first-batch loss is \(num(fb.loss))",
                        hint: "use init glorot and inputs in [0,1]; keep epsilon above 0")
        }
        let above = fb.loss >= lnC
        let v = abs(fb.loss - lnC)
        // Below chance the loss can fall at most ln C: the levels are capped at half of it and all of it.
        let warn = above ? p("warn") : p("warn").map { min($0, lnC / 2) }
        let fail = above ? p("fail") : p("fail").map { min($0, lnC) }
        let g = gradeHigh(v, warn: warn, fail: fail, strict: true)
        let hint = above ? "use init glorot (or init he for relu): the untrained network is confidently wrong"
                         : "the loss starts below chance: check the labels, and start from fresh weights (run NAME)"
        return make("first-batch", v, g,
                    "first-batch loss \(num(fb.loss)) vs ln(\(classes)) = \(num(lnC)): \(num(v)) nats \(above ? "above" : "below") it (\(pct(v / lnC)) of ln(\(classes)))",
                    hint: hint)
    }
}
