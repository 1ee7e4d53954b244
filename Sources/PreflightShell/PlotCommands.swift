import Foundation
import PreflightEngine
import PreflightPlot

/// What `plot` can draw.
enum PlotKind: String, CaseIterable {
    case loss, accuracy, hidden, saturation, grads
}

extension Session {
    static let plotUsage = "plot loss|accuracy|hidden|saturation|grads [RUN…] [--log] [--out FILE.svg|FILE.png]"

    static let plotCommands: [Command] = [
        Command(name: "plot", group: .pictures, usage: plotUsage,
                summary: "a chart of the runs' records in the terminal, or an SVG/PNG file with --out",
                details: """
                loss, accuracy: train (solid) and test (dashed) per epoch, one colour per run (12 colours, then they repeat; \
                in a terminal without colour each line has its own dot pattern or ASCII marker, shown in the legend)
                hidden: each hidden layer's mean activation per epoch (epoch 0 = the first batch, before any update); \
                one colour per layer, one line style per run (solid, dashed, dotted, dash-dot, …)
                saturation: the first batch's share of softmax outputs below ε or above 1−ε, one bar per run
                grads: each weight layer's gradient norm per epoch (epoch 0 = the first batch), log scale; colours and styles as hidden
                RUN…: the runs to draw (default: the current run, or every run when none is selected)
                --log: a logarithmic y axis (ticks at powers of ten); values of zero or below are left out and a note says how many
                --out FILE.svg|FILE.png: write a file instead (800x500; the PNG is the SVG drawn by librsvg)
                """,
                example: "plot loss good bad --out loss.svg", handler: { s, a in try s.plot(a) }),
    ]

    func plot(_ args: [String]) throws {
        let u = Session.plotUsage
        guard let first = args.first else {
            throw CommandError("plot: what to plot? loss, accuracy, hidden, saturation or grads", usage: u)
        }
        guard let kind = PlotKind(rawValue: first.lowercased()) else {
            throw CommandError("plot: unknown chart `\(first.prefix(30))`: loss, accuracy, hidden, saturation or grads", usage: u)
        }
        var names: [String] = [], out: String? = nil, log = false
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--log" {
                log = true; i += 1
            } else if a == "--out" || a == "-o" {
                guard i + 1 < args.count else { throw CommandError("plot: --out needs a file name", usage: u) }
                guard out == nil else { throw CommandError("plot: --out given twice", usage: u) }
                out = args[i + 1]; i += 2
            } else if a.hasPrefix("--out=") {
                out = String(a.dropFirst(6)); i += 1
            } else if a.hasPrefix("-") {
                throw CommandError("plot: unknown option \(a.prefix(30))", usage: u)
            } else {
                names.append(a); i += 1
            }
        }
        let selected = try plotRuns(names, usage: u)
        var chart = makeChart(kind, runs: selected)
        if log { chart.logY = true }
        if let path = out {
            let lower = path.lowercased()
            if lower.hasSuffix(".svg") {
                try writeOutput(path, Array(chart.renderSVG(width: 800, height: 500).utf8))
            } else if lower.hasSuffix(".png") {
                let png: [UInt8]
                do { png = try chart.renderPNG(width: 800, height: 500) } catch {
                    throw CommandError("plot: --out \(path): \(error)")
                }
                try writeOutput(path, png)
            } else {
                throw CommandError("plot: --out \(path): the file name must end in .svg or .png", usage: u)
            }
            console.info("wrote \(kind.rawValue) chart of \(selected.map(\.name).joined(separator: ", ")) to \(path)")
            return
        }
        let style = TerminalStyle(width: max(console.width, 40), height: 20, unicode: console.unicode, color: console.color)
        var text = chart.renderTerminal(style)
        if !text.hasSuffix("\n") { text += "\n" }
        console.out(text)
        if kind == .saturation {
            for (n, r) in selected.enumerated() {
                let v = r.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "not recorded (train first)"
                console.line("  \(n + 1) \(r.name): \(v)")
            }
        }
    }

    /// Run `k`'s line style in charts whose colours tell layers apart (hidden, grads).
    static func runStyle(_ k: Int) -> LineStyle { LineStyle.allCases[k % LineStyle.allCases.count] }

    /// The runs named, or the default: the current run, or every run when none is selected.
    func plotRuns(_ names: [String], usage: String) throws -> [Run] {
        if names.isEmpty {
            if let r = currentRun { return [r] }
            guard !runs.isEmpty else { throw CommandError("plot: no runs yet: `train N` records one") }
            return runs
        }
        var out: [Run] = []
        for n in names {
            guard let r = run(named: n) else { let e = noSuchRun(n); throw CommandError("plot: " + e.message, usage: usage) }
            if !out.contains(where: { $0 === r }) { out.append(r) }
        }
        return out
    }

    /// The chart of `kind` with every run in `runs` overlaid.
    func makeChart(_ kind: PlotKind, runs list: [Run]) -> Chart {
        let multi = list.count > 1
        switch kind {
        case .loss, .accuracy:
            var series: [Series] = []
            for (k, r) in list.enumerated() {
                let ep = r.epochs
                let train = ep.map { (x: Double($0.epoch), y: kind == .loss ? $0.trainLoss : $0.trainAccuracy) }
                let test = ep.map { (x: Double($0.epoch), y: (kind == .loss ? $0.testLoss : $0.testAccuracy) ?? .nan) }
                // One colour per run; train solid, test dashed (as the help and the report's captions say).
                series.append(Series(name: "\(r.name) train", points: train, group: k))
                series.append(Series(name: "\(r.name) test", points: test, dashed: true, group: k))
            }
            let title = kind == .loss ? "Loss per epoch" : "Accuracy per epoch"
            return Chart(title: title + (multi ? "" : ": \(list.first?.name ?? "")"), xLabel: "epoch",
                         yLabel: kind == .loss ? "cross-entropy loss" : "accuracy", series: series,
                         yRange: nil)   // accuracy zooms to the data: 96% against 97% must be visible
        case .hidden:
            var series: [Series] = []
            for (k, r) in list.enumerated() {
                let hidden = r.hiddenCount
                for h in 0..<hidden {
                    var pts: [(x: Double, y: Double)] = []
                    if let fb = r.firstBatch, h < fb.hidden.count { pts.append((0, fb.hidden[h].mean)) }
                    for e in r.epochs where h < e.hidden.count { pts.append((Double(e.epoch), e.hidden[h].mean)) }
                    // An external run's hidden outputs carry their module names (net.1).
                    let label = r.record.flatMap { h < $0.hiddenNames.count ? $0.hiddenNames[h] : nil } ?? "h\(h + 1)"
                    series.append(Series(name: "\(r.name)/\(label)", points: pts, style: Self.runStyle(k), group: h))
                }
            }
            return Chart(title: "Hidden-layer mean activation" + (multi ? "" : ": \(list.first?.name ?? "")"),
                         xLabel: "epoch (0 = first batch)", yLabel: "mean activation", series: series)
        case .saturation:
            // Axis labels stay ASCII: a terminal without UTF-8 shows them too.
            let bars = list.map { r -> Bar in
                let v = r.firstBatch?.saturatedFraction ?? .nan
                return Bar(name: r.name, value: v, label: v.isNaN ? nil : pct(v, 1))
            }
            return Chart(title: "First-batch softmax saturation", xLabel: "runs",
                         yLabel: "share below eps or above 1-eps", bars: bars, yRange: 0...1)
        case .grads:
            var series: [Series] = []
            for (k, r) in list.enumerated() {
                for l in 0..<r.weightLayerCount {
                    var pts: [(x: Double, y: Double)] = []
                    if let fb = r.firstBatch, l < fb.gradNorms.count { pts.append((0, fb.gradNorms[l])) }
                    for e in r.epochs where l < e.layers.count { pts.append((Double(e.epoch), e.layers[l].gradNorm)) }
                    let label = r.record.flatMap { l < $0.gradNormNames.count ? $0.gradNormNames[l] : nil } ?? "W\(l + 1)"
                    series.append(Series(name: "\(r.name)/\(label)", points: pts, style: Self.runStyle(k), group: l))
                }
            }
            return Chart(title: "Gradient norm per layer" + (multi ? "" : ": \(list.first?.name ?? "")"),
                         xLabel: "epoch (0 = first batch)", yLabel: "gradient norm (L2)", series: series, logY: true)
        }
    }
}
