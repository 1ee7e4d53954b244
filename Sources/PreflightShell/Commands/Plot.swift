import Foundation
import PreflightEngine
import PreflightPlot

extension Commands {
    static let plot = Command(
        "plot", group: .pictures, forms: [[.value(.choice(PlotKind.allCases.map(\.rawValue))), .any(.value(.run("RUN")))]],
        options: [CommandOption("--log"), CommandOption("--out", aliases: ["-o"], .path("FILE.svg|FILE.png"))],
        brief: "plot KIND [RUN…] [--out F]",
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
        example: "plot loss good bad --out loss.svg", writesFiles: true) { s, inv in try plot(s, inv) }
}

extension Commands {
    static func plot(_ s: Session, _ inv: Invocation) throws {
        guard let first = inv.words.first else {
            throw inv.usageError("plot: what to plot? loss, accuracy, hidden, saturation or grads")
        }
        guard let kind = PlotKind(rawValue: first.lowercased()) else {
            throw inv.usageError("plot: unknown chart `\(first.prefix(30))`: loss, accuracy, hidden, saturation or grads")
        }
        let names = Array(inv.words.dropFirst()), out = inv.value("--out"), u = inv.usage
        let selected = try plotRuns(s, names, usage: u)
        var chart = makeChart(kind, runs: selected)
        if inv.flag("--log") { chart.logY = true }
        if let path = out {
            let lower = path.lowercased()
            if lower.hasSuffix(".svg") {
                try s.writeOutput(path, Array(chart.renderSVG(width: 800, height: 500).utf8))
            } else if lower.hasSuffix(".png") {
                let png: [UInt8]
                do { png = try chart.renderPNG(width: 800, height: 500) } catch {
                    throw CommandError("plot: --out \(path): \(error)")
                }
                try s.writeOutput(path, png)
            } else {
                throw CommandError("plot: --out \(path): the file name must end in .svg or .png", usage: u)
            }
            s.console.info("wrote \(kind.rawValue) chart of \(selected.map(\.name).joined(separator: ", ")) to \(path)")
            return
        }
        let style = TerminalStyle(width: max(s.console.width, 40), height: 20, unicode: s.console.unicode, color: s.console.color)
        var text = chart.renderTerminal(style)
        if !text.hasSuffix("\n") { text += "\n" }
        s.console.out(text)
        if kind == .saturation {
            for (n, r) in selected.enumerated() {
                let v = r.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "not recorded (train first)"
                s.console.line("  \(n + 1) \(r.name): \(v)")
            }
        }
    }

    /// The runs named, or the default: the current run, or every run when none is selected.
    static func plotRuns(_ s: Session, _ names: [String], usage: String) throws -> [Run] {
        if names.isEmpty {
            if let r = s.currentRun { return [r] }
            guard !s.runs.isEmpty else { throw CommandError("plot: no runs yet: `train N` records one") }
            return s.runs
        }
        var out: [Run] = []
        for n in names {
            guard let r = s.run(named: n) else { let e = noSuchRun(s, n); throw CommandError("plot: " + e.message, usage: usage) }
            if !out.contains(where: { $0 === r }) { out.append(r) }
        }
        return out
    }
}
