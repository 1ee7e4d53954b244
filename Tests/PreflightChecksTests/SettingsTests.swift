import XCTest
import PreflightEngine
import PreflightChecks

final class SettingsTests: XCTestCase {
    func testVerdictOrderAndCoding() throws {
        XCTAssertTrue(Verdict.fail > .warn)
        XCTAssertTrue(Verdict.warn > .notRun)
        XCTAssertTrue(Verdict.notRun > .ok)
        XCTAssertEqual(Verdict.notRun.rawValue, "not-run")
        let data = try JSONEncoder().encode([Verdict.notRun, .ok])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"not-run\",\"ok\"]")
        XCTAssertEqual(try JSONDecoder().decode([Verdict].self, from: data), [.notRun, .ok])
    }

    func testRanking() {
        // fail: saturation, init-loss, input-range; warn: dead-units, output-units; not-run: act-saturation + epoch rules.
        let input = Fixture.input(layers: [784, 128, 128, 12], inputMax: 255,
                                  firstBatch: Fixture.firstBatch(loss: 14, saturated: 0.9, dead: [0.35, 0]), epochs: [])
        let fs = Rules.evaluate(input, thresholds: .defaults)
        XCTAssertEqual(fs.count, Rules.all.count)
        let sev = fs.map(\.verdict.severity)
        XCTAssertEqual(sev, sev.sorted(by: >), "ranked by severity")
        let order = Dictionary(uniqueKeysWithValues: Rules.all.enumerated().map { ($0.element.id, $0.offset) })
        for v in Verdict.allCases {
            let ids = fs.filter { $0.verdict == v }.map { order[$0.rule]! }
            XCTAssertEqual(ids, ids.sorted(), "stable within \(v)")
        }
        XCTAssertEqual(fs.prefix(3).map(\.rule), ["saturation", "init-loss", "input-range"])
        XCTAssertEqual(fs[3...4].map(\.rule), ["dead-units", "output-units"])
        XCTAssertEqual(fs.last?.verdict, .ok)
    }

    func testOnlySelectsRules() {
        let fs = Rules.evaluate(Fixture.input(), thresholds: .defaults, only: ["init-loss", "saturation"])
        XCTAssertEqual(fs.map(\.rule), ["saturation", "init-loss"])
        XCTAssertEqual(Rules.evaluate(Fixture.input(), thresholds: .defaults, only: []).count, 0)
    }

    func testAllRulesOfTheDesign() {
        let ids = Set(Rules.all.map(\.id))
        for id in ["saturation", "hidden-scale", "init-loss", "dead-units", "act-saturation", "grad-vanish", "grad-explode",
                   "update-ratio", "nonfinite", "input-range", "output-units", "loss-trend", "divergence", "oscillation",
                   "slow", "overfitting"] {
            XCTAssertTrue(ids.contains(id), id)
        }
        XCTAssertEqual(ids.count, Rules.all.count, "ids are unique")
    }

    func testRulesAreFoundByIdAsUsersTypeThem() {
        XCTAssertEqual(Rules.named("dead-units")?.id, "dead-units")
        XCTAssertEqual(Rules.named(" Check.Dead_Units ")?.id, "dead-units")
        XCTAssertNil(Rules.named("dead"))
        // Each rule judges under its own id, once.
        for r in Rules.all {
            XCTAssertEqual(Rules.evaluate(Fixture.input(), thresholds: .defaults, only: [r.id]).map(\.rule), [r.id])
        }
    }

    func testSetAndValue() throws {
        var t = Thresholds.defaults
        XCTAssertEqual(t.value("saturation.fail"), 0.1)
        XCTAssertEqual(t.value("check.saturation.warn"), 0.01)
        try t.set("check.saturation.fail", "0.5")
        XCTAssertEqual(t.value("saturation.fail"), 0.5)
        XCTAssertEqual(t.describe("check.saturation.fail"), "0.5")
        try t.set("saturation.warn", "0.02")
        XCTAssertEqual(t.value("saturation.warn"), 0.02)
        // The new threshold decides the verdict.
        let f = check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.3)), t)
        XCTAssertEqual(f.verdict, .warn)
        XCTAssertEqual(f.threshold, 0.02)
        // A level can be switched off.
        try t.set("check.saturation.fail", "off")
        XCTAssertNil(t.value("saturation.fail"))
        XCTAssertEqual(t.describe("check.saturation.fail"), "off")
        XCTAssertEqual(check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.99)), t).verdict, .warn)
    }

    func testValidation() {
        var t = Thresholds.defaults
        func message(_ key: String, _ text: String) -> String? {
            do { try t.set(key, text); return nil } catch { return "\(error)" }
        }
        let unknownRule = message("check.bogus.warn", "1")
        XCTAssertNotNil(unknownRule)
        XCTAssertTrue(unknownRule!.contains("unknown check rule 'bogus'"), unknownRule!)
        let unknownKey = message("check.saturation.bogus", "1")
        XCTAssertTrue(unknownKey?.contains("check.saturation.warn") ?? false, unknownKey ?? "no error")
        XCTAssertTrue(message("check.saturation.fail", "abc")?.contains("needs a number") ?? false)
        XCTAssertTrue(message("check.saturation.fail", "nan")?.contains("finite") ?? false)
        XCTAssertTrue(message("check.saturation.fail", "inf")?.contains("finite") ?? false)
        XCTAssertNotNil(message("check.saturation.fail", "2"), "a share above 1")
        XCTAssertNotNil(message("check.saturation", "maybe"))
        XCTAssertNotNil(message("check.hidden-scale.growth", "off"), "a knob cannot be off")
        XCTAssertNotNil(message("check.symmetry.warn", "1"), "symmetry has no thresholds")
        for m in [unknownRule, unknownKey, message("check.saturation.fail", "abc")].compactMap({ $0 }) {
            XCTAssertFalse(m.contains("\n"), "one line: \(m)")
        }
        XCTAssertEqual(t, Thresholds.defaults, "failed sets change nothing")
    }

    func testOffDisablesRule() throws {
        var t = Thresholds.defaults
        try t.set("check.saturation", "off")
        XCTAssertFalse(t.isEnabled("saturation"))
        XCTAssertEqual(t.describe("check.saturation"), "off")
        let f = check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.99)), t)
        XCTAssertEqual(f.verdict, .notRun)
        XCTAssertEqual(f.reason, "disabled by set check.saturation off")
        XCTAssertEqual(f.hint, "")
        try t.set("check.saturation", "on")
        XCTAssertTrue(t.isEnabled("saturation"))
        XCTAssertEqual(check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.99)), t).verdict, .fail)
    }

    func testKeysAndChanged() throws {
        var t = Thresholds.defaults
        let keys = t.keys
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertTrue(keys.contains("check.saturation.warn"))
        XCTAssertTrue(keys.contains("check.saturation.fail"))
        XCTAssertTrue(keys.contains("check.saturation"))
        for r in Rules.all { XCTAssertTrue(keys.contains("check.\(r.id)"), r.id) }
        for k in keys { XCTAssertFalse(t.describe(k).isEmpty, k) }
        XCTAssertTrue(t.changed.isEmpty)
        try t.set("check.saturation.fail", "0.2")
        try t.set("check.overfitting", "off")
        try t.set("check.init-loss.warn", "1.15") // the default: not a change
        XCTAssertEqual(t.changed.map(\.key), ["check.overfitting", "check.saturation.fail"])
        XCTAssertEqual(t.changed.map(\.value), ["off", "0.2"])
        try t.set("check.saturation.fail", "0.1")
        XCTAssertEqual(t.changed.map(\.key), ["check.overfitting"])
        // Every changed setting can be replayed.
        var u = Thresholds.defaults
        for c in t.changed { try u.set(c.key, c.value) }
        XCTAssertEqual(u, t)
    }

    func testEveryDefaultKeyRoundTrips() throws {
        var t = Thresholds.defaults
        for k in t.keys { try t.set(k, t.describe(k)) }
        XCTAssertEqual(t, Thresholds.defaults)
    }

    func testExplain() throws {
        for r in Rules.all {
            let text = try XCTUnwrap(Rules.explain(r.id), r.id)
            XCTAssertTrue(text.contains("\n"), "multi-line")
            XCTAssertTrue(text.hasPrefix(r.id))
            XCTAssertTrue(text.contains("check.\(r.id)"), r.id)
            for k in Thresholds.defaults.keys where k.hasPrefix("check.\(r.id).") {
                XCTAssertTrue(text.contains("\(k) = \(Thresholds.defaults.describe(k))"), "\(r.id) shows \(k)")
            }
            XCTAssertFalse(r.title.isEmpty || r.measures.isEmpty || r.why.isEmpty || r.source.isEmpty || r.tryThis.isEmpty)
        }
        XCTAssertTrue(Rules.explain("saturation")!.contains("check.saturation.fail = 0.1"))
        var t = Thresholds.defaults
        try t.set("check.saturation.fail", "0.25")
        let text = Rules.explain("saturation", thresholds: t)!
        XCTAssertTrue(text.contains("check.saturation.fail = 0.25"), text)
        XCTAssertTrue(text.contains("default 0.1"), text)
        XCTAssertNil(Rules.explain("bogus"))
    }
}
