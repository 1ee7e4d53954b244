import PreflightEngine

extension Rule {
    static let overfitting = Rule(
        id: "overfitting", title: "overfitting",
        measures: "With test metrics over 3 or more epochs: how far the latest test loss is above its minimum, counted when the minimum is at least 2 epochs back and the train loss has fallen since; and the gap between train and test accuracy in the latest epoch. The table shows the value that decided the verdict: the rise when it counts and fires (or counted and all is well), else the accuracy gap against `gap`.",
        why: "A test loss that rises while the train loss falls means the network is memorising the training set; further epochs make it worse.",
        source: "TheDeepChecker and UMLAUT (train/test divergence). A small uptick of the test loss is normal noise and does not count. The gap level, 15%, is calibrated on the fault zoo: healthy 2000-sample MNIST runs ended 4 epochs 9.7–10.2 points apart (a small training set leaves a gap of that size with nothing wrong), while networks memorising 200 samples reached 20–28 (faults/NOTES.md).",
        tryThis: "A rising test loss: stop earlier (fewer epochs). A large accuracy gap: use a smaller network or more data.",
        settings: [.level("warn", 0.2, "warn when the test loss is this share or more above its minimum (sustained 2+ epochs)", .positive),
                   .level("fail", nil, "fail when the test loss is this share or more above its minimum (sustained 2+ epochs)", .positive),
                   .knob("gap", 0.15, "warn when train accuracy exceeds test accuracy by more than this", .share)],
        evaluate: { $0.overfitting() })
}

private extension RuleContext {
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
