import PreflightEngine

extension Rule {
    static let outputUnits = Rule(
        id: "output-units", title: "output size vs classes",
        measures: "The size of the output layer compared with the number of classes in the data.",
        why: "Fewer outputs than classes: some labels can never be predicted (and their loss is undefined). More: wasted outputs that only soak up probability.",
        source: "A NeuraLint-style static check of the model against the data.",
        tryThis: "Make the last layer as wide as the number of classes.",
        settings: [],
        evaluate: { $0.outputUnits() })
}

private extension RuleContext {
    func outputUnits() -> Finding {
        guard let out = input.outputs else {
            return notRun(input.layers == nil ? "\(input.source) gives no output width (first_batch.outputs or config.layers)" : "no layers set")
        }
        guard classes > 0 else {
            return notRun(input.classes == nil ? noClasses : "the number of classes is unknown: load the run's data (data …)")
        }
        let fix = input.layers.map { "layers " + ($0.dropLast().map(String.init) + [String(classes)]).joined(separator: " ") }
            ?? "make the model's last layer \(classes) wide"
        let text = "\(out) output units for \(classes) classes"
        if out < classes {
            return make("static", Double(out), (.fail, Double(classes)), text + ": \(classes - out) classes can never be predicted", hint: fix)
        }
        if out > classes {
            return make("static", Double(out), (.warn, Double(classes)), text + ": \(out - classes) outputs have no class", hint: fix)
        }
        return make("static", Double(out), (.ok, Double(classes)), text, hint: "")
    }
}
