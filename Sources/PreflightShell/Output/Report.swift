import Foundation
import PreflightEngine
import PreflightChecks
import PreflightPlot

extension Session {
    /// The charts of the report, in order.
    static let reportCharts: [PlotKind] = [.loss, .accuracy, .hidden, .saturation]

    /// The report page.
    public func reportHTML(title: String = "Preflight report") -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="generator" content="preflight">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>\(xmlEscape(title))</title>
        <style>
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1180px; padding: 0 16px; line-height: 1.4; }
        h1 { font-size: 26px; margin-bottom: 4px; }
        h2 { font-size: 20px; margin-top: 36px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
        h3 { font-size: 16px; margin: 18px 0 6px; }
        .meta { color: #666; font-size: 14px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
        figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 6px; background: #fff; }
        figure svg { width: 100%; height: auto; display: block; }
        figcaption { font-size: 13px; color: #555; padding: 4px 6px 2px; }
        table { border-collapse: collapse; font-size: 13.5px; margin: 4px 0 10px; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f4f4f4; font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .cols { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
        .verdict { font-weight: bold; text-transform: uppercase; font-size: 12px; }
        tr.fail td.v { background: #fde2e1; color: #a4000f; }
        tr.warn td.v { background: #fff3cd; color: #7a5600; }
        tr.ok td.v { background: #e5f5e8; color: #1e6b34; }
        tr.not-run td.v { background: #eee; color: #666; }
        .summary td.v { white-space: nowrap; }
        </style>
        </head>
        <body>
        <h1>\(xmlEscape(title))</h1>

        """
        let dataText = data.map { "\($0.spec.name): \($0.dataset.train.count) train, \($0.dataset.test.count) test samples" } ?? "no data loaded"
        h += "<p class=\"meta\">\(runs.count) run\(runs.count == 1 ? "" : "s") · \(xmlEscape(dataText)) · written \(xmlEscape(isoNow()))</p>\n"

        // Overview: one line per run.
        let allFindings = runs.map { findings(for: $0) }
        h += "<h2>Runs</h2>\n<table class=\"summary\">\n<tr><th>run</th><th>layers</th><th>activation</th><th>init</th><th>optimizer</th>"
        h += "<th>epochs</th><th>test accuracy</th><th>first-batch saturation</th><th>checks</th></tr>\n"
        for (i, (r, f)) in zip(runs, allFindings).enumerated() {
            let worst = f.map(\.verdict).filter { $0 != .notRun }.max() ?? .ok
            let bad = f.filter { $0.verdict == .fail || $0.verdict == .warn }.map { "\($0.rule) (\($0.verdict.rawValue))" }
            h += "<tr class=\"\(worst.rawValue)\"><td><a href=\"#run-\(i + 1)\">\(xmlEscape(r.name))</a></td>"
            h += "<td>\(xmlEscape(r.layersText))</td><td>\(xmlEscape(r.activationText))</td>"
            h += "<td>\(xmlEscape(r.initText))</td><td>\(xmlEscape(r.optimizerText))</td>"
            h += "<td class=\"num\">\(r.epochs.count)</td>"
            h += "<td class=\"num\">\(xmlEscape(r.epochs.last?.testAccuracy.map { pct($0) } ?? "–"))</td>"
            h += "<td class=\"num\">\(xmlEscape(r.firstBatch.flatMap { $0.saturatedFraction.isNaN && r.isExternal ? nil : pct($0.saturatedFraction, 1) } ?? "–"))</td>"
            h += "<td class=\"v\">\(xmlEscape(f.isEmpty ? "–" : bad.isEmpty ? "all ok" : bad.joined(separator: ", ")))</td></tr>\n"
        }
        h += "</table>\n"

        // Charts, runs overlaid.
        h += "<h2>Charts</h2>\n<div class=\"charts\">\n"
        let captions: [PlotKind: String] = [
            .loss: "Train (solid) and test (dashed) cross-entropy per epoch, one colour per run.",
            .accuracy: "Train (solid) and test (dashed) accuracy per epoch, one colour per run.",
            .hidden: "Mean post-activation value of each hidden layer (one colour per layer, one line style per run); epoch 0 is the first batch before any update.",
            .saturation: "Share of the first batch's softmax outputs below ε or above 1−ε, one bar per run.",
        ]
        for k in Session.reportCharts {
            let chart = makeChart(k, runs: runs)
            h += "<figure class=\"chart\" id=\"chart-\(k.rawValue)\">\n" + chart.renderSVG(width: 640, height: 400)
            h += "<figcaption>\(xmlEscape(captions[k] ?? ""))</figcaption>\n</figure>\n"
        }
        h += "</div>\n"

        // The latest fix table and the diff of the runs it compares (Fix.swift).
        h += Commands.fixReportSection(self)
        // Each run.
        for (i, (r, f)) in zip(runs, allFindings).enumerated() { h += runSection(r, index: i + 1, findings: f) }
        h += "</body>\n</html>\n"
        return h
    }

    private func runSection(_ r: Run, index: Int, findings f: [Finding]) -> String {
        let c = r.config
        var h = "<section class=\"run\" id=\"run-\(index)\">\n<h2>Run \(xmlEscape(r.name))</h2>\n<div class=\"cols\">\n<div>\n<h3>Configuration</h3>\n"
        var rows: [(String, String)]
        if let rec = r.record {
            rows = [("record", "\(rec.engineText), from \(rec.file)")]
            if let s = rec.script { rows.append(("script", s)) }
            if let m = rec.model { rows.append(("model", m)) }
            if let k = rec.outputKind, k != "logits" { rows.append(("model output", "\(k) (the saturation shares are of its probabilities)")) }
            rows += [("data", rec.dataset ?? "–"), ("classes", rec.classes.map(String.init) ?? "–"),
                     ("layers", r.layersText), ("activation", r.activationText), ("init", r.initText), ("optimizer", r.optimizerText),
                     ("batch / seed", r.batchSeedText), ("epsilon", rec.epsilon.map(num) ?? "–"), ("epochs recorded", String(r.epochs.count))]
        } else {
            rows = [
                ("data", c.data.map { $0.command.replacingOccurrences(of: "data ", with: "") } ?? "–"),
                ("layers", c.layers!.map(String.init).joined(separator: " ")),
                ("activation", c.activationText), ("init", c.initDescription), ("optimizer", c.optimizer.description),
                ("batch", String(c.batch)), ("seed", String(c.seed)), ("epsilon", num(c.epsilon)),
                ("epochs trained", String(r.epochs.count)),
            ]
            if c.l2Value != 0 { rows.append(("l2", num(c.l2Value))) }
            if c.scheduleValue != .none { rows.append(("schedule", c.scheduleValue.description)) }
            if c.dropoutValue != 0 { rows.append(("dropout", num(c.dropoutValue))) }
            if let cl = c.clip { rows.append(("clip", num(cl))) }
            if c.batchNormValue { rows.append(("batchnorm", "on")) }
        }
        if let e = r.epochs.last {
            rows.append(("final train loss / accuracy", "\(e.trainLoss.isNaN ? "–" : fmt(e.trainLoss, 4)) / \(e.trainAccuracy.isNaN ? "–" : pct(e.trainAccuracy))"))
            if let tl = e.testLoss, let ta = e.testAccuracy { rows.append(("final test loss / accuracy", "\(fmt(tl, 4)) / \(pct(ta))")) }
        }
        if let ev = r.nonFinite {
            rows.append(("stopped by NaN/Inf", "epoch \(ev.epoch), batch \(ev.batch), \(ev.stage), \(ev.layer)"))
        }
        h += "<table class=\"config\">\n" + rows.map { "<tr><th>\(xmlEscape($0.0))</th><td>\(xmlEscape($0.1))</td></tr>\n" }.joined() + "</table>\n</div>\n"

        h += "<div>\n<h3>First batch (before any update)</h3>\n"
        if let fb = r.firstBatch {
            let classes: Int? = r.record != nil ? r.record!.classes : c.layers!.last!
            let fr: [(String, String)] = [
                ("loss", fmt(fb.loss, 4) + (classes.map { $0 >= 2 ? " (ln \($0) = \(fmt(log(Double($0)), 4)))" : "" } ?? "")),
                ("softmax saturated (< ε or > 1−ε)", pct(fb.saturatedFraction, 2)),
                ("below ε / above 1−ε", "\(pct(fb.lowFraction, 2)) / \(pct(fb.highFraction, 2))"),
                ("accuracy", pct(fb.accuracy, 1)), ("batch size", String(fb.batchSize)),
                ("input range", "\(num(fb.inputMin)) … \(num(fb.inputMax))"),
                ("gradient norms", fb.gradNorms.enumerated().map { i, g in
                    let name = r.record.flatMap { i < $0.gradNormNames.count ? $0.gradNormNames[i] : nil } ?? "W\(i + 1)"
                    return "\(name) \(num(g))"
                }.joined(separator: ", ")),
            ]
            // A record may lack a value (a regression model has no accuracy or saturation): "–", not "nan".
            let unknown = { (v: String) in v.split(separator: " ").allSatisfy { $0 == "nan" || $0 == "/" || $0 == "…" } }
            let shown = r.isExternal ? fr.map { ($0.0, unknown($0.1) ? "–" : $0.1) } : fr
            h += "<table class=\"first-batch\">\n" + shown.map { "<tr><th>\(xmlEscape($0.0))</th><td class=\"num\">\(xmlEscape($0.1))</td></tr>\n" }.joined() + "</table>\n"
            if !fb.hidden.isEmpty {
                h += "<table class=\"hidden\">\n<tr><th>hidden layer</th><th>mean</th><th>std</th><th>max</th><th>zeros</th><th>&gt; 1</th><th>dead units</th></tr>\n"
                for (i, s) in fb.hidden.enumerated() {
                    let label = r.record.flatMap { i < $0.hiddenNames.count ? $0.hiddenNames[i] : nil } ?? "h\(i + 1)"
                    h += "<tr><td>\(xmlEscape(label))</td>" + [num(s.mean), num(s.std), num(s.max), pct(s.zeroFraction, 1), pct(s.aboveOneFraction, 1),
                                                           s.deadFraction.isNaN && r.isExternal ? "–" : pct(s.deadFraction, 1)]
                        .map { "<td class=\"num\">\(xmlEscape($0))</td>" }.joined() + "</tr>\n"
                }
                h += "</table>\n"
            }
        } else {
            h += "<p class=\"meta\">not recorded yet (it is recorded by the first training batch)</p>\n"
        }
        h += "</div>\n</div>\n"

        h += "<h3>Checks</h3>\n"
        if f.isEmpty {
            h += "<p class=\"meta\">no checks ran (load the run's data or train it)</p>\n"
        } else {
            h += "<table class=\"checks\">\n<tr><th>rule</th><th>phase</th><th>measured</th><th>value</th><th>threshold</th><th>verdict</th><th>what to try</th></tr>\n"
            for x in f.sorted(by: { $0.verdict.severity > $1.verdict.severity }) {
                h += "<tr class=\"\(x.verdict.rawValue)\"><td>\(xmlEscape(x.rule))</td><td>\(xmlEscape(x.phase))</td><td>\(xmlEscape(x.measured))</td>"
                h += "<td class=\"num\">\(xmlEscape(x.value.map(num) ?? "–"))</td><td class=\"num\">\(xmlEscape(x.threshold.map(num) ?? "–"))</td>"
                h += "<td class=\"v\"><span class=\"verdict\">\(xmlEscape(x.verdict.rawValue))</span></td>"
                h += "<td>\(xmlEscape(x.verdict == .notRun ? x.reason : x.hint))</td></tr>\n"
            }
            h += "</table>\n"
        }

        if !r.epochs.isEmpty {
            h += "<h3>Epochs</h3>\n<table class=\"epochs\">\n<tr><th>epoch</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th>"
            h += (0..<r.hiddenCount).map { "<th>h\($0 + 1) mean</th>" }.joined() + "<th>seconds</th></tr>\n"
            for e in r.epochs {
                var cells = [String(e.epoch) + (e.complete ? "" : " (partial)"), e.trainLoss.isNaN ? "–" : fmt(e.trainLoss, 4),
                             e.trainAccuracy.isNaN ? "–" : pct(e.trainAccuracy),
                             e.testLoss.map { fmt($0, 4) } ?? "–", e.testAccuracy.map { pct($0) } ?? "–"]
                cells += e.hidden.map { num($0.mean) }
                cells.append(e.seconds.isNaN ? "–" : fmt(e.seconds, 2))
                h += "<tr>" + cells.map { "<td class=\"num\">\(xmlEscape($0))</td>" }.joined() + "</tr>\n"
            }
            h += "</table>\n"
        }
        h += "</section>\n"
        return h
    }
}


private func isoNow() -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    return f.string(from: Date())
}
