import Foundation
import PreflightEngine
import PreflightPlot

/// What `plot` can draw.
enum PlotKind: String, CaseIterable {
    case loss, accuracy, hidden, saturation, grads
}

extension Commands {
    static let plot = Command(
        "plot", group: .pictures, forms: [[.value(.choice(PlotKind.allCases.map(\.rawValue))), .any(.value(.run("RUN")))]],
        options: [CommandOption("--out", aliases: ["-o"], .path("FILE.svg|FILE.png"))],
        brief: "plot KIND [RUN…] [--out F]",
        summary: "a chart of the runs' records in the terminal, or an SVG/PNG file with --out",
        details: """
        loss, accuracy: train (solid) and test (dashed) per epoch, one colour per run (colours repeat after 8 runs; \
        in a terminal without colour each line has its own dot pattern or ASCII marker, shown in the legend)
        hidden: each hidden layer's mean activation per epoch (epoch 0 = the first batch, before any update)
        saturation: the first batch's share of softmax outputs below ε or above 1−ε; each run is a level segment, side by side
        grads: each weight layer's gradient norm per epoch (epoch 0 = the first batch), log scale
        RUN…: the runs to draw (default: the current run, or every run when none is selected)
        --out FILE.svg|FILE.png: write a file instead (800x500)
        """,
        example: "plot loss good bad --out loss.svg", writesFiles: true) { s, inv in try s.plot(inv) }
}

extension Session {
    func plot(_ inv: Invocation) throws {
        guard let first = inv.words.first else {
            throw inv.usageError("plot: what to plot? loss, accuracy, hidden, saturation or grads")
        }
        guard let kind = PlotKind(rawValue: first.lowercased()) else {
            throw inv.usageError("plot: unknown chart `\(first.prefix(30))`: loss, accuracy, hidden, saturation or grads")
        }
        let names = Array(inv.words.dropFirst()), out = inv.value("--out"), u = inv.usage
        let selected = try plotRuns(names, usage: u)
        let chart = makeChart(kind, runs: selected)
        if let path = out {
            let lower = path.lowercased()
            if lower.hasSuffix(".svg") {
                try writeOutput(path, Array(chart.renderSVG(width: 800, height: 500).utf8))
            } else if lower.hasSuffix(".png") {
                try writeOutput(path, chart.renderPNG(width: 800, height: 500))
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
            for r in list {
                let hidden = r.hiddenCount
                for h in 0..<hidden {
                    var pts: [(x: Double, y: Double)] = []
                    if let fb = r.firstBatch, h < fb.hidden.count { pts.append((0, fb.hidden[h].mean)) }
                    for e in r.epochs where h < e.hidden.count { pts.append((Double(e.epoch), e.hidden[h].mean)) }
                    // An external run's hidden outputs carry their module names (net.1).
                    let label = r.record.flatMap { h < $0.hiddenNames.count ? $0.hiddenNames[h] : nil } ?? "h\(h + 1)"
                    series.append(Series(name: "\(r.name)/\(label)", points: pts))
                }
            }
            return Chart(title: "Hidden-layer mean activation" + (multi ? "" : ": \(list.first?.name ?? "")"),
                         xLabel: "epoch (0 = first batch)", yLabel: "mean activation", series: series)
        case .saturation:
            // Axis labels stay ASCII: the PNG font has no Greek letters.
            // One level segment per run, side by side: run i spans x from i−1 to i (markers at both ends).
            let series = list.enumerated().map { (i, r) -> Series in
                let v = r.firstBatch?.saturatedFraction ?? .nan
                return Series(name: "\(i + 1) \(r.name)", points: [(Double(i), v), (Double(i + 1), v)])
            }
            return Chart(title: "First-batch softmax saturation", xLabel: "runs side by side, in the legend's order",
                         yLabel: "share below eps or above 1-eps", series: series, yRange: -0.02...1.02)
        case .grads:
            var series: [Series] = []
            for r in list {
                for l in 0..<r.weightLayerCount {
                    var pts: [(x: Double, y: Double)] = []
                    if let fb = r.firstBatch, l < fb.gradNorms.count { pts.append((0, fb.gradNorms[l])) }
                    for e in r.epochs where l < e.layers.count { pts.append((Double(e.epoch), e.layers[l].gradNorm)) }
                    let label = r.record.flatMap { l < $0.gradNormNames.count ? $0.gradNormNames[l] : nil } ?? "W\(l + 1)"
                    series.append(Series(name: "\(r.name)/\(label)", points: pts))
                }
            }
            return Chart(title: "Gradient norm per layer" + (multi ? "" : ": \(list.first?.name ?? "")"),
                         xLabel: "epoch (0 = first batch)", yLabel: "gradient norm (L2)", series: series, logY: true)
        }
    }
}
