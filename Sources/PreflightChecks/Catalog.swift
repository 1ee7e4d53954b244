/// What `explain` says about a rule.
public struct RuleInfo: Sendable {
    public var id: String
    /// A short name, e.g. "softmax saturation at the start".
    public var title: String
    /// What the rule measures.
    public var measures: String
    /// Why it matters.
    public var why: String
    /// Where the idea and the default numbers come from.
    public var source: String
    /// What to try when it fires.
    public var tryThis: String
    public init(id: String, title: String, measures: String, why: String, source: String, tryThis: String) {
        self.id = id; self.title = title; self.measures = measures; self.why = why; self.source = source; self.tryThis = tryThis
    }
}

/// One numeric setting of a rule: `check.RULE.NAME`.
struct ParamSpec: Sendable {
    var name: String
    /// nil: off by default (that level never fires until set).
    var value: Double?
    /// What the number means, for `explain`.
    var doc: String
    /// Whether `off` is accepted (warn/fail levels only).
    var canBeOff: Bool
    var range: ClosedRange<Double>?
}

struct RuleSpec: Sendable {
    var info: RuleInfo
    var params: [ParamSpec]
}

private func level(_ name: String, _ value: Double?, _ doc: String, _ range: ClosedRange<Double>? = nil) -> ParamSpec {
    ParamSpec(name: name, value: value, doc: doc, canBeOff: true, range: range)
}
private func knob(_ name: String, _ value: Double, _ doc: String, _ range: ClosedRange<Double>? = nil) -> ParamSpec {
    ParamSpec(name: name, value: value, doc: doc, canBeOff: false, range: range)
}

private let share: ClosedRange<Double> = 0...1
private let positive: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude

/// Every rule, in the order `check` lists them within a verdict.
let catalog: [RuleSpec] = [
    RuleSpec(info: RuleInfo(
        id: "saturation", title: "softmax saturation at the start",
        measures: "On the first batch of the first epoch, before any update: the share of softmax outputs below ε or above 1−ε (ε is the session's epsilon, 1e-7 by default).",
        why: "A saturated softmax means the untrained network is already certain, and wrong. Its gradients are tiny or clipped, so training starts slowly or not at all, and the loss is dominated by clipped log(ε) terms.",
        source: "The original study: well-initialised networks (Glorot) had 0% saturated outputs on the first batch, badly initialised ones (truncated normal, std 0.5) 80–100%.",
        tryThis: "Use a scaled initialiser (init glorot, or init he for relu) and inputs scaled to [0,1] (data … --scale unit)."),
        params: [level("warn", 0.01, "warn when this share of outputs or more is saturated", share),
                 level("fail", 0.1, "fail when this share of outputs or more is saturated", share)]),
    RuleSpec(info: RuleInfo(
        id: "hidden-scale", title: "hidden-layer means too large or running away",
        measures: "The mean of each hidden layer's outputs, on the first batch (at initialisation) and over the latest epoch; also whether the means grow layer over layer (each at least `growth` times the one before: \"running away\").",
        why: "Activations that grow with depth make the logits huge, which saturates the softmax and makes gradients explode. Healthy networks keep hidden means below 1 at the start; they rise slowly with training.",
        source: "The original study: good networks' hidden means stayed below 1 (and rose with training), bad ones were far above 1 and grew layer after layer. The per-epoch limits are looser because trained networks' means rise (to about 1–1.3 after 5–15 epochs of Adam on MNIST).",
        tryThis: "Use init glorot or init he, inputs in [0,1]; if the means grow during training, lower the learning rate."),
        params: [level("warn", 1, "at initialisation: warn when any hidden mean is above this", positive),
                 level("fail", 3, "at initialisation: fail when the last hidden mean is above this (or above warn while running away)", positive),
                 level("epoch-warn", 3, "after an epoch: warn when any hidden mean is above this", positive),
                 level("epoch-fail", 10, "after an epoch: fail when the last hidden mean is above this (or above epoch-warn while running away)", positive),
                 knob("growth", 1.5, "running away: every hidden mean at least this many times the previous layer's", 1...1e9)]),
    RuleSpec(info: RuleInfo(
        id: "init-loss", title: "first-batch loss vs chance",
        measures: "The first batch's loss, before any update, compared with ln(classes), the loss of a network that spreads its belief evenly: |loss − ln C| / ln C.",
        why: "An untrained network should be unsure: about ln C (2.30 for 10 classes). A much larger loss means confident wrong predictions (weights too large); a much smaller one means the network already knows the answers (labels leak, or weights are not fresh).",
        source: "Karpathy's \"A recipe for training neural networks\" (verify the loss at init) and TheDeepChecker. Glorot networks on MNIST start at 2.3–2.5; truncated normal std 0.5 at 10–30.",
        tryThis: "Use init glorot or init he; check the labels and that the run starts from fresh weights (run NAME)."),
        params: [level("warn", 0.5, "warn when the loss is off ln C by this share of ln C or more", positive),
                 level("fail", 1, "fail when the loss is off ln C by this share of ln C or more", positive)]),
    RuleSpec(info: RuleInfo(
        id: "dead-units", title: "dead relu units",
        measures: "For relu-like activations (relu, leaky_relu, elu): the share of a hidden layer's units that were never active (output never above 0) on the first batch, or over the whole latest epoch. The worst layer counts.",
        why: "A unit that is never active passes no gradient (relu) and stops learning for good; a layer full of them is wasted capacity, or a broken network.",
        source: "DeepDiagnosis, AUTOTRAINER and TheDeepChecker all check for dying relus. Healthy Glorot/He networks on MNIST measured at most 6% over an epoch of 60000 samples; init zeros gives 100%, Adam 0.01 about 23%. Over short epochs more units look dead: healthy controls of the fault zoo (2000 samples an epoch) reached 10–16%, hence a warn level of 15% (faults/RESULTS.md).",
        tryThis: "Use init he or init glorot (never zeros); if units die during training, lower the learning rate or try activation leaky_relu."),
        params: [level("warn", 0.15, "over an epoch: warn when this share of a layer's units or more is dead", share),
                 level("fail", 0.5, "fail when this share of a layer's units or more is dead (first batch or epoch)", share),
                 level("init-warn", 0.25, "on the first batch: warn when this share or more is dead (a batch is a small sample: deep layers of healthy networks show up to ~15% on 32 samples)", share),
                 knob("min-batch", 32, "judge the first batch only when it has at least this many samples", 1...1e9)]),
    RuleSpec(info: RuleInfo(
        id: "symmetry", title: "constant initial weights",
        measures: "Whether a weight layer is initialised to a constant (init zeros, or normal/truncnormal/uniform with 0).",
        why: "Units whose weights start equal compute the same output and receive the same update, so they stay copies of each other. With relu, zero weights give zero outputs and no gradient at all: the layer never learns. A zero output layer alone is harmless.",
        source: "Standard deep-learning practice (symmetry breaking); NeuraLint-style static check.",
        tryThis: "Use a random initialiser: init glorot (or init he for relu)."),
        params: []),
    RuleSpec(info: RuleInfo(
        id: "act-saturation", title: "tanh/sigmoid saturation",
        measures: "For tanh and sigmoid: the share of hidden outputs whose pre-activation is beyond ±5, on the first batch (the latest epoch when no first batch was recorded). The worst layer counts.",
        why: "Beyond ±5 tanh and sigmoid are flat: their derivative is below 2e-4 (tanh) or 7e-3 (sigmoid), so almost no gradient reaches the layers below.",
        source: "DeepDiagnosis (saturated activations).",
        tryThis: "Use init glorot with tanh/sigmoid, inputs in [0,1], or activation relu."),
        params: [level("warn", 0.1, "warn when this share of outputs or more is saturated", share),
                 level("fail", 0.3, "fail when this share of outputs or more is saturated", share)]),
    RuleSpec(info: RuleInfo(
        id: "grad-vanish", title: "vanishing gradients",
        measures: "The ratio of the first layer's weight-gradient norm to the last layer's, on the first batch and in the latest epoch; it counts only when the first layer's norm is itself tiny.",
        why: "When almost no gradient reaches the first layers they stop learning while the last layer does all the work.",
        source: "AUTOTRAINER: ratio below 1e-3 with the first layer's norm below 1e-4. The warn level is ten times each.",
        tryThis: "Use relu with init he, fewer layers, or a larger learning rate for deep tanh/sigmoid networks."),
        params: [level("warn", 1e-2, "warn when first/last is below this (and the first norm below warn-norm)", positive),
                 level("fail", 1e-3, "fail when first/last is below this (and the first norm below fail-norm)", positive),
                 knob("warn-norm", 1e-3, "first layer's gradient norm below which a warn ratio counts", positive),
                 knob("fail-norm", 1e-4, "first layer's gradient norm below which a fail ratio counts", positive)]),
    RuleSpec(info: RuleInfo(
        id: "grad-explode", title: "exploding gradients",
        measures: "The ratio of the first layer's weight-gradient norm to the last layer's, on the first batch and in the latest epoch; it counts only when the first layer's norm is at least `min-norm` (below it the table shows that norm against min-norm, verdict ok). Also the largest layer's gradient norm against `norm-warn`: gradients that are huge in every layer keep the ratio near 1.",
        why: "Gradients that grow on their way down make the first layers' updates huge: the loss jumps around or becomes NaN. Two norms that are both close to 0 can have any ratio: that is a vanishing gradient (grad-vanish), not an explosion.",
        source: "AUTOTRAINER: ratio above 70. The warn level, 20, is Preflight's choice: healthy MLPs on MNIST measure about 1–2, unscaled inputs far more. The floor, 1e-4, is AUTOTRAINER's own level for a first-layer norm that has vanished (grad-vanish's fail-norm). norm-warn, 50, is calibrated on the fault zoo: healthy controls' largest norm was 6.9, raw pixels and weights far too large gave 440–2200 in every layer at a ratio near 1 (faults/RESULTS.md).",
        tryThis: "Lower the learning rate, use init glorot or init he, scale inputs to [0,1]."),
        params: [level("warn", 20, "warn when first/last is above this", positive),
                 level("fail", 70, "fail when first/last is above this", positive),
                 level("norm-warn", 50, "warn when any weight layer's gradient norm is above this, whatever the ratio", positive),
                 knob("min-norm", 1e-4, "judge the ratio only when the first layer's gradient norm is at least this", positive)]),
    RuleSpec(info: RuleInfo(
        id: "update-ratio", title: "update size vs weight size",
        measures: "Per weight layer, over the latest epoch: log10(‖Δw‖/‖w‖) of one optimiser step.",
        why: "Steps much larger than a thousandth of the weights make training unstable; much smaller ones make it crawl.",
        source: "cs231n (a healthy update/weight ratio is near 1e-3) and TheDeepChecker. Adam 0.001 on a Glorot MNIST network measures 1e-3 to 5e-3 per layer; SGD 0.01 about 5e-4.",
        tryThis: "Too large: lower the learning rate. Too small: raise it."),
        params: [level("warn-low", -4, "warn when log10 ratio is below this"),
                 level("warn-high", -1, "warn when log10 ratio is above this"),
                 level("fail-low", -5, "fail when log10 ratio is below this"),
                 level("fail-high", 0, "fail when log10 ratio is above this")]),
    RuleSpec(info: RuleInfo(
        id: "nonfinite", title: "NaN or infinity",
        measures: "Whether training stopped on a NaN/Inf (and where it first appeared: epoch, batch, stage, layer), and whether any recorded loss, hidden statistic or gradient norm is NaN or infinite.",
        why: "One NaN poisons every weight it touches; nothing after it means anything.",
        source: "DeepLocalize (locate the first layer and stage that goes non-finite) and TensorFlow's check_numerics.",
        tryThis: "Lower the learning rate, scale inputs to [0,1], keep epsilon above 0."),
        params: []),
    RuleSpec(info: RuleInfo(
        id: "input-range", title: "input scaling",
        measures: "The largest absolute input value over the training set (after scaling).",
        why: "Inputs far outside [−1,1] (e.g. raw 0–255 pixels) make the first layer's outputs hundreds of times larger than the initialisers assume: saturated softmax, exploding gradients, NaN.",
        source: "UMLAUT (inputs should lie in [0,1] or [−1,1]). Inputs that merely reach a few units warn, raw pixels fail. Inputs standardised by Preflight (--scale standard: each feature has training mean 0 and std 1) are judged by their own levels: ordinary tails reach |z| of 5–15 and are fine; a |z| in the hundreds is a lone sample that dominates the first layer.",
        tryThis: "Scale inputs to [0,1]: data … --scale unit; or standardise them: data … --scale standard."),
        params: [level("warn", 1.01, "warn when the largest |input| is above this", positive),
                 level("fail", 5, "fail when the largest |input| is above this", positive),
                 level("standard-warn", 100, "standardised inputs (--scale standard): warn when the largest |input| (a z-score) is above this", positive),
                 level("standard-fail", nil, "standardised inputs: fail when the largest |input| is above this", positive)]),
    RuleSpec(info: RuleInfo(
        id: "output-units", title: "output size vs classes",
        measures: "The size of the output layer compared with the number of classes in the data.",
        why: "Fewer outputs than classes: some labels can never be predicted (and their loss is undefined). More: wasted outputs that only soak up probability.",
        source: "A NeuraLint-style static check of the model against the data.",
        tryThis: "Make the last layer as wide as the number of classes."),
        params: []),
    RuleSpec(info: RuleInfo(
        id: "class-balance", title: "classes in the training and test splits",
        measures: "Samples per class in the training split (largest class ÷ smallest), classes with no training samples, and classes that occur in the test split but never in training.",
        why: "A network cannot learn a class it never sees in training: every test sample of it is a guaranteed error, and the test metrics mislead. A class far rarer than the others is learnt late or not at all, while the accuracy hides it (predicting the large class is already right most of the time).",
        source: "A data check in the spirit of UMLAUT's and TheDeepChecker's checks on the data before training; the 10× ratio is Preflight's choice (MNIST's classes differ by 1.2×).",
        tryThis: "Fix the labels, collect or resample data for the rare classes, or draw the split per class (data … --test FRACTION does)."),
        params: [level("warn", 10, "warn when the largest training class has more than this many times the samples of the smallest", 1...1e9),
                 level("fail", nil, "fail when the largest training class has more than this many times the samples of the smallest", 1...1e9)]),
    RuleSpec(info: RuleInfo(
        id: "loss-trend", title: "loss not falling",
        measures: "The relative change of the train loss from the first epoch to the latest: (last − first) / first.",
        why: "If the train loss does not fall, the network is not learning: the learning rate, the initialisation or the data is wrong.",
        source: "TheDeepChecker and AUTOTRAINER (loss not decreasing).",
        tryThis: "Check the learning rate (too high or too low), the initialisation and the input scaling."),
        params: [level("warn", -0.01, "warn when the relative change is above this (fell by less than 1%)"),
                 level("fail", 0, "fail when the relative change is at or above this (did not fall)")]),
    RuleSpec(info: RuleInfo(
        id: "divergence", title: "loss diverging",
        measures: "Whether the train loss became NaN/Inf; how far the latest epoch's train loss is above its lowest so far (latest / minimum; the first batch's loss before any update counts as the start); and whether it is above `chance` × ln(classes), the loss of guessing, while also above its earlier best.",
        why: "A loss that climbs back up, or ends worse than guessing and worse than where it started, means the steps are too large and training is undoing itself (Adam with learning rate 10 does exactly this on MNIST).",
        source: "AUTOTRAINER and UMLAUT (loss increasing, NaN loss).",
        tryThis: "Lower the learning rate."),
        params: [level("warn", 1.25, "warn when latest / minimum train loss is at or above this", 1...1e9),
                 level("fail", 2, "fail when latest / minimum train loss is at or above this", 1...1e9),
                 knob("chance", 1, "fail when the train loss is above this × ln(classes) and above its earlier best", positive)]),
    RuleSpec(info: RuleInfo(
        id: "oscillation", title: "loss going up and down",
        measures: "Over 4 or more epochs: the share of successive train-loss differences that change sign (moves smaller than `min-change` of the loss are ignored; at least two sign changes are needed).",
        why: "A loss that alternates between rising and falling is bouncing across a valley: the steps are too large for the landscape.",
        source: "AUTOTRAINER (oscillating loss) and TheDeepChecker.",
        tryThis: "Lower the learning rate, or use a larger batch."),
        params: [level("warn", 0.5, "warn when this share of differences or more changes sign", share),
                 level("fail", nil, "fail when this share of differences or more changes sign", share),
                 knob("min-change", 0.01, "ignore moves smaller than this share of the loss", share)]),
    RuleSpec(info: RuleInfo(
        id: "slow", title: "learning too slowly",
        measures: "Over the last 3 epochs: the relative fall of the train loss per epoch, counted only while the train accuracy is below `accuracy`.",
        why: "A network that is still bad but has stopped improving is stuck: a plateau, a learning rate that is too small, or saturated units.",
        source: "AUTOTRAINER (slow convergence) and UMLAUT. The 2% a epoch is calibrated on the fault zoo: learning rates 10–100× too small fell 0.3–0.8% an epoch, the slowest healthy control still below 90% accuracy 7.6% (faults/RESULTS.md).",
        tryThis: "Raise the learning rate, switch to adam, or fix the initialisation."),
        params: [level("warn", 0.02, "warn when the loss falls by less than this share per epoch", positive),
                 level("fail", nil, "fail when the loss falls by less than this share per epoch", positive),
                 knob("accuracy", 0.9, "only judge while train accuracy is below this", share)]),
    RuleSpec(info: RuleInfo(
        id: "overfitting", title: "overfitting",
        measures: "With test metrics over 3 or more epochs: how far the latest test loss is above its minimum, counted when the minimum is at least 2 epochs back and the train loss has fallen since; and the gap between train and test accuracy in the latest epoch. The table shows the value that decided the verdict: the rise when it counts and fires (or counted and all is well), else the accuracy gap against `gap`.",
        why: "A test loss that rises while the train loss falls means the network is memorising the training set; further epochs make it worse.",
        source: "TheDeepChecker and UMLAUT (train/test divergence). A small uptick of the test loss is normal noise and does not count.",
        tryThis: "A rising test loss: stop earlier (fewer epochs). A large accuracy gap: use a smaller network or more data."),
        params: [level("warn", 0.2, "warn when the test loss is this share or more above its minimum (sustained 2+ epochs)", positive),
                 level("fail", nil, "fail when the test loss is this share or more above its minimum (sustained 2+ epochs)", positive),
                 knob("gap", 0.1, "warn when train accuracy exceeds test accuracy by more than this", share)]),
]

func spec(_ id: String) -> RuleSpec? { catalog.first { $0.info.id == id } }
