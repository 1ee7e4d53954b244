import Foundation
import PreflightEngine
import PreflightChecks

// `diff A B`: what differs between two runs — configuration, verdicts, per-epoch metrics.

/// The differences between two runs, as tables of text (header rows first; empty when nothing differs).
struct RunDiff {
    var a: String, b: String
    var config: [[String]]
    var findings: [[String]]
    var epochs: [[String]]
    /// Epoch counts when they differ ("a has 5 epochs, b 3").
    var note: String?
}

extension Session {
    /// The settings of a run as text, keyed: a Preflight run's configuration, or what an external run's record says.
    func settingsText(_ r: Run) -> [(key: String, value: String)] {
        if r.isExternal {
            return [("source", r.originText ?? "-"), ("layers", r.layersText), ("activation", r.activationText), ("init", r.initText),
                    ("optimizer", r.optimizerText), ("batch / seed", r.batchSeedText)]
        }
        return Session.configCommands(r.config).map { (k, c) in
            // "optimizer adam 0.001" → "adam 0.001"; "set schedule.epochs auto" → "auto"; the data command whole.
            let v = k == "data" ? c : c.hasPrefix("set ") ? String(c.split(separator: " ").last!) :
                c.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").dropFirst().joined(separator: " ") }.joined(separator: "; ")
            return (k, v)
        }
    }

    func diff(_ a: Run, _ b: Run) -> RunDiff {
        var d = RunDiff(a: a.name, b: b.name, config: [], findings: [], epochs: [])
        let sa = settingsText(a), sb = settingsText(b)
        var cfg = [["setting", a.name, b.name]]
        for k in (sa.map(\.key) + sb.map(\.key).filter { k in !sa.contains { $0.key == k } }) {
            let va = sa.first { $0.key == k }?.value ?? "-", vb = sb.first { $0.key == k }?.value ?? "-"
            if va != vb { cfg.append([k, va, vb]) }
        }
        if cfg.count > 1 { d.config = cfg }

        // The verdicts as `check` would give them now (the probe an untrained run caches is put back).
        func judged(_ r: Run) -> [Finding] {
            let p = r.probedFirstBatch
            defer { r.probedFirstBatch = p }
            return findings(for: r)
        }
        let fa = judged(a), fb = judged(b)
        var fr = [["rule", "value", "verdict"]]
        for x in fa {
            guard let y = fb.first(where: { $0.rule == x.rule }), y.verdict != x.verdict else { continue }
            fr.append([x.rule, "\(x.value.map(num) ?? "-") → \(y.value.map(num) ?? "-")", "\(label(x.verdict)) → \(label(y.verdict))"])
        }
        if fr.count > 1 { d.findings = fr }

        let ea = a.epochs, eb = b.epochs
        if ea.count != eb.count { d.note = "\(a.name) has \(plural(ea.count, "epoch")), \(b.name) \(ea.count == 0 || eb.count == 0 ? plural(eb.count, "epoch") : String(eb.count)); compared over the first \(min(ea.count, eb.count))" }
        let n = min(ea.count, eb.count)
        if n > 0 {
            var er = [["epoch", "train loss", "Δ", "test loss", "Δ", "test acc", "Δ"]]
            func pair(_ x: Double?, _ y: Double?, _ f: (Double) -> String) -> [String] {
                guard let x, let y else { return ["\(x.map(f) ?? "-") → \(y.map(f) ?? "-")", "-"] }
                return ["\(f(x)) → \(f(y))", (y - x >= 0 ? "+" : "") + f(y - x)]
            }
            for i in 0..<n {
                let x = ea[i], y = eb[i]
                er.append([String(x.epoch)] + pair(x.trainLoss, y.trainLoss, { fmt($0, 4) })
                          + pair(x.testLoss, y.testLoss, { fmt($0, 4) })
                          + pair(x.testAccuracy, y.testAccuracy, { fmt($0 * 100, 2) }))
            }
            d.epochs = er
        }
        return d
    }

    private func label(_ v: Verdict) -> String { v == .notRun ? "not run" : v.rawValue }

    func printDiff(_ d: RunDiff) {
        console.line("diff \(d.a) → \(d.b):")
        if d.config.isEmpty { console.line("  configuration: the same") }
        else {
            console.line("  configuration:")
            console.out(Table(rows: d.config).render(indent: "    ", console: console))
        }
        if d.findings.isEmpty { console.line("  verdicts: none changed") }
        else {
            console.line("  verdicts that changed:")
            console.out(Table(rows: d.findings, rightAligned: [1]).render(indent: "    ", console: console))
        }
        if d.epochs.isEmpty { console.line("  epochs: none to compare" + (d.note.map { " (\($0))" } ?? "")) }
        else {
            console.line("  per epoch (\(d.a) → \(d.b); test acc in %)" + (d.note.map { ": \($0)" } ?? "") + ":")
            console.out(Table(rows: d.epochs, rightAligned: [0, 1, 2, 3, 4, 5, 6]).render(indent: "    ", console: console))
        }
    }
}
