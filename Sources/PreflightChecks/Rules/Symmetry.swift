import PreflightEngine

extension Rule {
    static let symmetry = Rule(
        id: "symmetry", title: "constant initial weights",
        measures: "Whether a weight layer is initialised to a constant (init zeros, or normal/truncnormal/uniform with 0).",
        why: "Units whose weights start equal compute the same output and receive the same update, so they stay copies of each other. With relu, zero weights give zero outputs and no gradient at all: the layer never learns. A zero output layer alone is harmless.",
        source: "Standard deep-learning practice (symmetry breaking); NeuraLint-style static check.",
        tryThis: "Use a random initialiser: init glorot (or init he for relu).",
        settings: [],
        evaluate: { $0.symmetry() })
}

private extension RuleContext {
    func symmetry() -> Finding {
        guard let layers = input.layers else { return notRun("\(input.source) gives no layer sizes (config.layers)") }
        let L = layers.count - 1
        guard L >= 1 else { return notRun("no layers set") }
        let inits: [Initializer]
        if input.initializers.count == L { inits = input.initializers }
        else if input.initializers.count == 1 { inits = Array(repeating: input.initializers[0], count: L) }
        else if input.initializers.isEmpty { return notRun("\(input.source) names no initialiser (config.init)") }
        else { return notRun("\(input.initializers.count) initialisers for \(L) weight layers") }
        let constant = inits.indices.filter { isConstant(inits[$0]) }
        let hiddenConstant = constant.filter { $0 < L - 1 }
        func name(_ l: Int) -> String { "weight layer \(l + 1) (\(layers[l])→\(layers[l + 1]))" }
        let hint = "use a random initialiser: init glorot (or init he for relu)"
        let value = Double(constant.count)
        if L >= 2 && constant.count == L {
            return make("init", value, (.fail, nil),
                        "all \(L) weight layers start constant: the units of each layer compute the same thing and get the same update",
                        hint: hint)
        }
        if let l = hiddenConstant.first {
            if input.activation == .relu {
                return make("init", value, (.fail, nil),
                            "\(name(l)) starts constant: with relu its units output 0 and get no gradient, ever", hint: hint)
            }
            return make("init", value, (.warn, nil),
                        "\(name(l)) starts constant: its units start identical; only the next layer's random weights tell them apart",
                        hint: hint)
        }
        if constant.contains(L - 1) {
            return make("init", value, (.ok, nil), "only the output layer starts constant (harmless: the hidden layers are random)", hint: "")
        }
        let names = Set(inits.map(\.description)).sorted().joined(separator: ", ")
        return make("init", value, (.ok, nil), "every weight layer starts random (\(names))", hint: "")
    }
}
