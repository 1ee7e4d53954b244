import Foundation
import PreflightEngine

// What every rule's evaluate function has at hand: the run, the settings, and shared grading helpers.

let noFirstBatch = "no first batch recorded (train, or check before training probes one)"

func phase(_ e: EpochRecord) -> String { "epoch \(e.epoch)" }
func phase(_ es: some Collection<EpochRecord>) -> String {
    guard let a = es.first, let b = es.reversed().first else { return "epochs" }
    return a.epoch == b.epoch ? "epoch \(a.epoch)" : "epochs \(a.epoch)-\(b.epoch)"
}

/// Higher is worse. `strict`: the value must exceed the threshold (else reach it).
func gradeHigh(_ v: Double, warn: Double?, fail: Double?, strict: Bool) -> (Verdict, Double?) {
    if v.isNaN { return (.fail, fail ?? warn) }
    func hit(_ t: Double) -> Bool { strict ? v > t : v >= t }
    if let f = fail, hit(f) { return (.fail, f) }
    if let w = warn, hit(w) { return (.warn, w) }
    return (.ok, warn ?? fail)
}

/// Lower is worse: the value must fall below the threshold.
func gradeLow(_ v: Double, warn: Double?, fail: Double?) -> (Verdict, Double?) {
    if v.isNaN { return (.fail, fail ?? warn) }
    if let f = fail, v < f { return (.fail, f) }
    if let w = warn, v < w { return (.warn, w) }
    return (.ok, warn ?? fail)
}

/// The worst of several phases' findings; not-run ones only count when nothing ran. Ties go to the later one.
func worst(_ fs: [Finding]) -> Finding? {
    let ran = fs.filter { $0.verdict != .notRun }
    guard !ran.isEmpty else { return fs.first }
    var best = ran[0]
    for f in ran.dropFirst() where f.verdict >= best.verdict { best = f }
    return best
}

func isConstant(_ i: Initializer) -> Bool {
    switch i {
    case .zeros: return true
    case .normal(let s), .truncnormal(let s), .uniform(let s): return s == 0
    default: return false
    }
}

func isReluLike(_ a: Activation) -> Bool { a == .relu || a == .leakyRelu || a == .elu }

/// The run a rule judges and the settings in force, with the helpers the rules share.
struct RuleContext {
    let input: CheckInput
    let t: Thresholds
    let rule: Rule

    /// The rule's setting `check.RULE.NAME` in force (nil when off). Only declared settings may be read.
    func p(_ name: String) -> Double? {
        assert(rule.setting(name) != nil, "rule \(rule.id) reads check.\(rule.id).\(name), which its declaration does not list")
        return t.value("\(rule.id).\(name)")
    }

    func notRun(_ reason: String, phase: String = "") -> Finding {
        Finding(rule: rule.id, phase: phase, value: nil, threshold: nil, verdict: .notRun, measured: "", hint: "", reason: reason)
    }

    func make(_ phase: String, _ value: Double?, _ graded: (Verdict, Double?), _ measured: String, hint: String) -> Finding {
        Finding(rule: rule.id, phase: phase, value: value, threshold: graded.1, verdict: graded.0, measured: measured, hint: hint)
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

    /// Moves of the train loss smaller than this are noise, whatever their relative size.
    var lossFloor: Double { 0.01 * (lnC ?? log(10)) }
}
