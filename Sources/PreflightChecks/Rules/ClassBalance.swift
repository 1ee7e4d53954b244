import PreflightEngine

extension Rule {
    static let classBalance = Rule(
        id: "class-balance", title: "classes in the training and test splits",
        measures: "Samples per class in the training split (largest class ÷ smallest), classes with no training samples, and classes that occur in the test split but never in training.",
        why: "A network cannot learn a class it never sees in training: every test sample of it is a guaranteed error, and the test metrics mislead. A class far rarer than the others is learnt late or not at all, while the accuracy hides it (predicting the large class is already right most of the time).",
        source: "A data check in the spirit of UMLAUT's and TheDeepChecker's checks on the data before training; the 10× ratio is Preflight's choice (MNIST's classes differ by 1.2×).",
        tryThis: "Fix the labels, collect or resample data for the rare classes, or draw the split per class (data … --test FRACTION does).",
        settings: [.level("warn", 10, "warn when the largest training class has more than this many times the samples of the smallest", 1...1e9),
                   .level("fail", nil, "fail when the largest training class has more than this many times the samples of the smallest", 1...1e9)],
        evaluate: { $0.classBalance() })
}

private extension RuleContext {
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
}
