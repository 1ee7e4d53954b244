import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// What the commands print, held to the JSON export (whose numbers OracleTests holds to NumPy): `compare`'s
/// table, the CSV export, the HTML report; and `source`, `history N`, `explain` through the shell.
final class OutputAgreementTests: XCTestCase {
    /// Whether a number as printed (fixed, %, or scientific; "-" for none) is `value` rounded to what it shows.
    static func printed(_ cell: String, is value: Double?) -> Bool {
        var s = cell.trimmingCharacters(in: .whitespaces)
        guard let value else { return s == "-" || s == "–" }
        var scale = 1.0
        if s.hasSuffix("%") { s.removeLast(); scale = 100 }
        guard let shown = Double(s) else { return false }
        let mantissa = s.split(separator: "e").first.map(String.init) ?? s
        let exponent = s.split(separator: "e").dropFirst().first.flatMap { Double($0) } ?? 0
        let decimals = mantissa.split(separator: ".").dropFirst().first?.count ?? 0
        let halfUnit = 0.5 * pow(10, -Double(decimals)) * pow(10, exponent)
        return abs(shown - value * scale) <= halfUnit * (1 + 1e-9) + 1e-12
    }

    func testPrintedNumberComparisonIsStrict() {
        XCTAssertTrue(Self.printed("2.3026", is: 2.302585))
        XCTAssertFalse(Self.printed("2.3025", is: 2.302585))
        XCTAssertTrue(Self.printed("96.12%", is: 0.96118))
        XCTAssertFalse(Self.printed("96.13%", is: 0.96118))
        XCTAssertTrue(Self.printed("1.23e-05", is: 1.2345e-5))
        XCTAssertFalse(Self.printed("1.24e-05", is: 1.2345e-5))
        XCTAssertTrue(Self.printed("-", is: nil))
    }

    func exportedRuns(_ p: PicsSession, _ name: String = "e.json") throws -> [String: [String: Any]] {
        p.run("export \(p.path(name))")
        let runs = try XCTUnwrap(try loadJSON(p.path(name))["runs"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: runs.map { ($0["name"] as! String, $0) })
    }

    /// The cells of a text table, split at runs of two or more spaces; keyed by the first cell.
    func tableRows(_ text: String) -> [String: [String]] {
        var rows: [String: [String]] = [:]
        for line in text.split(separator: "\n") {
            let cells = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let first = cells.first { rows[first] = Array(cells.dropFirst()) }
        }
        return rows
    }

    // MARK: compare

    func testCompareTableAgreesWithTheExport() throws {
        let p = PicsSession.twoRuns()
        let runs = try exportedRuns(p)
        p.clear()
        p.run("compare good bad")
        let out = p.output
        let header = out.split(separator: "\n").first!.split(separator: " ").map(String.init)
        XCTAssertEqual(header, ["good", "bad"], out)
        let rows = tableRows(out)
        func cells(_ label: String) throws -> [String] { try XCTUnwrap(rows[label], "no row `\(label)` in\n\(out)") }
        XCTAssertEqual(try cells("layers"), ["784-24-16-10", "784-24-16-10"])
        XCTAssertEqual(try cells("init"), ["glorot", "truncnormal 0.5"])
        XCTAssertEqual(try cells("epochs"), ["2", "2"])
        for (k, name) in ["good", "bad"].enumerated() {
            let r = runs[name]!
            let last = (r["epochs"] as! [[String: Any]]).last!
            let fb = r["first_batch"] as! [String: Any]
            let checks: [(String, Any)] = [
                ("train loss", last["train_loss"]!), ("train acc", last["train_accuracy"]!),
                ("test loss", last["test_loss"]!), ("test acc", last["test_accuracy"]!),
                ("first-batch loss", fb["loss"]!), ("first-batch saturated", fb["saturated_fraction"]!),
                ("hidden 1 mean, init", (fb["hidden"] as! [[String: Any]])[0]["mean"]!),
                ("hidden 2 mean, init", (fb["hidden"] as! [[String: Any]])[1]["mean"]!),
                ("hidden 1 mean, last epoch", (last["hidden"] as! [[String: Any]])[0]["mean"]!),
                ("hidden 2 mean, last epoch", (last["hidden"] as! [[String: Any]])[1]["mean"]!),
            ]
            for (label, v) in checks {
                let cell = try cells(label)[k]
                XCTAssertTrue(Self.printed(cell, is: (v as! Double)), "\(name) \(label): printed \(cell), exported \(v)")
            }
            // The verdicts: the failing and warning rules of the export, in its order.
            let found = r["checks"] as! [[String: Any]]
            let fails = found.filter { $0["verdict"] as? String == "fail" }.map { $0["rule"] as! String }
            let warns = found.filter { $0["verdict"] as? String == "warn" }.map { $0["rule"] as! String }
            var expected: [String] = []
            if !fails.isEmpty { expected.append("fail: " + fails.joined(separator: ",")) }
            if !warns.isEmpty { expected.append("warn: " + warns.joined(separator: ",")) }
            XCTAssertEqual(try cells("checks")[k], expected.isEmpty ? "all ok" : expected.joined(separator: "; "), name)
        }
        XCTAssertTrue(try cells("checks")[1].contains("saturation"), "the bad run fails saturation")
    }

    // MARK: CSV

    /// Equal but for the last bits: Foundation's JSONSerialization on Linux reads some doubles one ulp or so
    /// off (16.136560440063477 comes back as 16.13656044006347), so the CSV's exact text is held to it at 1e-12.
    func assertSame(_ a: Double?, _ b: Double?, _ message: String, line: UInt = #line) {
        guard let a, let b else { return XCTAssertTrue(a == nil && b == nil, "\(message): \(String(describing: a)) vs \(String(describing: b))", line: line) }
        XCTAssertLessThanOrEqual(abs(a - b), 1e-12 * max(abs(a), abs(b)), "\(message): \(a) vs \(b)", line: line)
    }

    func testCSVHasEveryMetricAndPivotsBackToTheJSON() throws {
        let p = PicsSession.twoRuns()
        let runs = try exportedRuns(p)
        p.run("export \(p.path("e.csv"))")
        let text = try String(contentsOfFile: p.path("e.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.removeFirst(), "run,phase,epoch,layer,metric,value")
        XCTAssertEqual(lines.removeLast(), "", "ends with a newline")
        // Pivot (pandas' df.pivot(index=[run, phase, epoch, layer], columns=metric)): each key once.
        var wide: [String: [String: String]] = [:]
        var order: [String] = []
        for l in lines {
            let f = l.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 6, l)
            let key = f[0..<4].joined(separator: ",")
            if wide[key] == nil { wide[key] = [:]; order.append(key) }
            XCTAssertNil(wide[key]![f[4]], "duplicate \(key) \(f[4]): a pivot would refuse it")
            wide[key]![f[4]] = f[5]
        }
        // Melting the wide table gives the same rows back.
        let melted = order.flatMap { k in wide[k]!.keys.sorted().map { "\(k),\($0),\(wide[k]![$0]!)" } }
        XCTAssertEqual(Set(melted), Set(lines))
        XCTAssertEqual(melted.count, lines.count)

        let hiddenMetrics = ["mean", "std", "max", "zero_fraction", "above_one_fraction", "dead_fraction", "saturated_fraction"]
        func value(_ key: String, _ metric: String) -> Double? { wide[key]?[metric].flatMap { Double($0) } }
        for (name, r) in runs {
            let fb = r["first_batch"] as! [String: Any]
            let k0 = "\(name),first_batch,0,"
            for m in ["loss", "saturated_fraction", "low_fraction", "high_fraction", "accuracy"] {
                assertSame(value(k0, m), fb[m] as? Double, "\(name) first batch \(m)")
            }
            for (i, h) in (fb["hidden"] as! [[String: Any]]).enumerated() {
                for m in hiddenMetrics { assertSame(value("\(name),first_batch,0,hidden\(i + 1)", m), h[m] as? Double, "\(name) fb hidden\(i + 1) \(m)") }
            }
            for (i, g) in (fb["grad_norms"] as! [Double]).enumerated() {
                assertSame(value("\(name),first_batch,0,layer\(i + 1)", "grad_norm"), g, "\(name) fb layer\(i + 1) grad_norm")
            }
            let epochs = r["epochs"] as! [[String: Any]]
            XCTAssertEqual(epochs.count, 2)
            for e in epochs {
                let n = e["epoch"] as! Int, k = "\(name),epoch,\(n),"
                for m in ["train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "samples_per_second"] {
                    assertSame(value(k, m), e[m] as? Double, "\(name) epoch \(n) \(m)")
                }
                for (i, h) in (e["hidden"] as! [[String: Any]]).enumerated() {
                    for m in hiddenMetrics { assertSame(value("\(name),epoch,\(n),hidden\(i + 1)", m), h[m] as? Double, "\(name) e\(n) hidden\(i + 1) \(m)") }
                }
                for (i, l) in (e["layers"] as! [[String: Any]]).enumerated() {
                    for m in ["grad_norm", "update_ratio"] { assertSame(value("\(name),epoch,\(n),layer\(i + 1)", m), l[m] as? Double, "\(name) e\(n) layer\(i + 1) \(m)") }
                }
            }
        }
        // Nothing else: 2 runs × (first batch: 5 + 2×7 hidden + 3 grads; 2 epochs × (6 + 2×7 + 3×2)).
        XCTAssertEqual(lines.count, 2 * ((5 + 14 + 3) + 2 * (6 + 14 + 6)))
    }

    // MARK: the HTML report

    func testReportNumbersAgreeWithTheExport() throws {
        let p = PicsSession.twoRuns()
        let runs = try exportedRuns(p)
        let file = p.path("r.html")
        p.run("report \(file)")
        let html = try String(contentsOfFile: file, encoding: .utf8)
        for (index, name) in ["good", "bad"].enumerated() {
            let r = runs[name]!
            let fb = r["first_batch"] as! [String: Any]
            let start = try XCTUnwrap(html.range(of: "<section class=\"run\" id=\"run-\(index + 1)\">"))
            let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex)?.lowerBound ?? html.endIndex
            let section = String(html[start.upperBound..<end])
            XCTAssertTrue(section.contains("<h2>Run \(name)</h2>"))
            func cell(_ label: String) throws -> String {
                let pattern = "<tr><th>\(NSRegularExpression.escapedPattern(for: label))</th><td class=\"num\">([^<]*)</td>"
                let re = try NSRegularExpression(pattern: pattern)
                let m = try XCTUnwrap(re.firstMatch(in: section, range: NSRange(section.startIndex..., in: section)), "\(name): no row \(label)")
                return String(section[Range(m.range(at: 1), in: section)!])
            }
            let loss = try cell("loss").split(separator: " ").first.map(String.init) ?? ""
            XCTAssertTrue(Self.printed(loss, is: fb["loss"] as? Double), "\(name) loss \(loss)")
            XCTAssertTrue(Self.printed(try cell("softmax saturated (&lt; ε or &gt; 1−ε)"), is: fb["saturated_fraction"] as? Double))
            let lowHigh = try cell("below ε / above 1−ε").components(separatedBy: " / ")
            XCTAssertTrue(Self.printed(lowHigh[0], is: fb["low_fraction"] as? Double), lowHigh[0])
            XCTAssertTrue(Self.printed(lowHigh[1], is: fb["high_fraction"] as? Double), lowHigh[1])
            XCTAssertTrue(Self.printed(try cell("accuracy"), is: fb["accuracy"] as? Double))
            XCTAssertEqual(try cell("batch size"), String(fb["batch_size"] as! Int))
            let grads = try cell("gradient norms").components(separatedBy: ", ")
            for (i, g) in (fb["grad_norms"] as! [Double]).enumerated() {
                XCTAssertTrue(grads[i].hasPrefix("W\(i + 1) "), grads[i])
                XCTAssertTrue(Self.printed(String(grads[i].dropFirst(3)), is: g), "\(name) W\(i + 1): \(grads[i]) vs \(g)")
            }
            // The hidden-layer table: mean, std, max, zeros, > 1, dead units.
            let re = try NSRegularExpression(pattern: "<tr><td>h(\\d)</td>((?:<td class=\"num\">[^<]*</td>){6})</tr>")
            let matches = re.matches(in: section, range: NSRange(section.startIndex..., in: section))
            let hidden = fb["hidden"] as! [[String: Any]]
            XCTAssertEqual(matches.count, hidden.count)
            for m in matches {
                let h = Int(section[Range(m.range(at: 1), in: section)!])! - 1
                let cells = section[Range(m.range(at: 2), in: section)!].components(separatedBy: "</td>").compactMap {
                    $0.components(separatedBy: ">").last }.filter { !$0.isEmpty }
                for (c, key) in zip(cells, ["mean", "std", "max", "zero_fraction", "above_one_fraction", "dead_fraction"]) {
                    XCTAssertTrue(Self.printed(c, is: hidden[h][key] as? Double), "\(name) h\(h + 1) \(key): \(c) vs \(hidden[h][key]!)")
                }
            }
            // The overview row: epochs and final test accuracy.
            let last = (r["epochs"] as! [[String: Any]]).last!
            let row = try XCTUnwrap(html.range(of: "<a href=\"#run-\(index + 1)\">\(name)</a>"))
            let rowText = String(html[row.upperBound...].prefix { $0 != "\n" })
            let nums = rowText.components(separatedBy: "<td class=\"num\">").dropFirst().map { String($0.prefix { $0 != "<" }) }
            XCTAssertEqual(nums[0], "2")
            XCTAssertTrue(Self.printed(nums[1], is: last["test_accuracy"] as? Double), "\(name) test accuracy \(nums[1])")
            XCTAssertTrue(Self.printed(nums[2], is: fb["saturated_fraction"] as? Double), "\(name) saturation \(nums[2])")
        }
    }

    // MARK: a check before training

    func testACheckBeforeTrainingBelongsToTheRun() throws {
        let p = PicsSession()
        p.run("data synthetic 500; layers 784 16 10; batch 50; check")
        var r = try XCTUnwrap(try exportedRuns(p, "checked.json")["run1"])
        let fb = try XCTUnwrap(r["first_batch"] as? [String: Any], "the probe is the run's first batch")
        XCTAssertEqual(fb["batch_size"] as? Int, 50)
        let indices = try XCTUnwrap(fb["sample_indices"] as? [Int])
        XCTAssertEqual(indices.count, 50)
        XCTAssertEqual(Set(indices).count, 50)
        XCTAssertTrue(indices.allSatisfy { (0..<500).contains($0) })
        var checks = try XCTUnwrap(r["checks"] as? [[String: Any]])
        XCTAssertEqual(Set(checks.map { $0["rule"] as! String }), Set(Rules.all.map(\.id)))
        XCTAssertEqual(checks.first { $0["rule"] as? String == "update-ratio" }?["verdict"] as? String, "not-run")
        // Kept by save and load.
        p.run("save \(p.path("s.npz")); load \(p.path("s.npz"))")
        r = try XCTUnwrap(try exportedRuns(p, "loaded.json")["run1"])
        XCTAssertEqual((r["first_batch"] as? [String: Any])?["sample_indices"] as? [Int], indices)
        // Training records its own first batch, on the same samples, and the export's verdicts follow the epochs.
        p.run("train 1")
        r = try XCTUnwrap(try exportedRuns(p, "trained.json")["run1"])
        XCTAssertEqual((r["first_batch"] as? [String: Any])?["sample_indices"] as? [Int], indices)
        checks = try XCTUnwrap(r["checks"] as? [[String: Any]])
        XCTAssertNotEqual(checks.first { $0["rule"] as? String == "update-ratio" }?["verdict"] as? String, "not-run")
    }

    // MARK: source, history, explain

    func testSourceOfAGoodScriptGivesWhatItsCommandsGive() throws {
        let commands = ["data synthetic 400", "seed 2", "layers 784 16 10", "run s", "train 2"]
        let p = PicsSession()
        let script = p.path("good.pf")
        try ("# a good script\n\n" + commands.joined(separator: "\n") + "\n  # done\n").write(toFile: script, atomically: true, encoding: .utf8)
        p.run("source \(script)")
        XCTAssertEqual(p.errors, "")
        XCTAssertEqual(p.session.runs.map(\.name), ["s"])
        XCTAssertEqual(p.session.runs[0].trainer.epochs.count, 2)
        XCTAssertEqual(p.session.runs[0].config.seed, 2)
        XCTAssertEqual(p.session.history.last?.line, "source \(script)")
        // The same commands typed one by one: the same records.
        let q = PicsSession()
        for c in commands { q.run(c) }
        p.run("export \(p.path("a.json")) --no-timings")
        q.run("export \(q.path("b.json")) --no-timings")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: p.path("a.json"))), try Data(contentsOf: URL(fileURLWithPath: q.path("b.json"))))
    }

    func testHistoryNPrintsTheLastNCommandsNumbered() throws {
        let p = PicsSession()
        p.run("seed 4; batch 20; layers 784 8 10; epsilon 1e-6")
        p.clear()
        p.run("history 2")
        XCTAssertEqual(p.output, "    3  layers 784 8 10\n    4  epsilon 1e-6\n")
        p.clear()
        p.run("history")
        XCTAssertEqual(p.output.split(separator: "\n").map(String.init),
                       ["    1  seed 4", "    2  batch 20", "    3  layers 784 8 10", "    4  epsilon 1e-6", "    5  history 2"])
        p.clear()
        p.run("history 100")
        XCTAssertEqual(p.output.split(separator: "\n").count, 6, "all of them when N exceeds the count")
        XCTAssertNotNil(p.fails("history 0"))
    }

    func testExplainThroughTheShell() throws {
        let p = PicsSession()
        for id in Rules.all.map(\.id) {
            p.clear()
            p.run("explain \(id)")
            let text = p.output
            XCTAssertTrue(text.hasPrefix("\(id) — "), text)
            for part in ["Measures: ", "Why it matters: ", "Source: ", "Try: "] { XCTAssertTrue(text.contains(part), "\(id): \(part)") }
        }
        // The thresholds in force, as `set` changed them.
        p.clear()
        p.run("set check.saturation.fail 0.3; explain SATURATION")
        XCTAssertTrue(p.output.contains("check.saturation.fail = 0.3"), p.output)
        XCTAssertTrue(p.output.contains("(default 0.1)"), p.output)
        XCTAssertTrue(p.fails("explain saturaton")?.message.contains("did you mean `saturation`") ?? false)
        XCTAssertNotNil(p.fails("explain"))
        // And in the real program, from a script.
        let (status, out, err) = try runBinary(["-c", "explain dead-units"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.hasPrefix("dead-units — "), out)
        XCTAssertTrue(out.contains("Thresholds in force"), out)
    }
}
