import Foundation
import XCTest
import PreflightShell

/// Every command's declaration is what the shell does: each declared option and each keyword or fixed word of its
/// grammar is offered by Tab where the grammar puts it and named by `help CMD`; options parse as declared.
final class DeclaredGrammarTests: XCTestCase {
    /// A word the grammar reaches, with sample words typed before it (this walk is the test's own, not the shell's).
    private struct Reached { var before: [String]; var words: [String]; var what: String }

    private func walk(_ terms: [Term], before: [String], into out: inout [Reached], budget: inout Int) {
        guard budget > 0, before.count <= 8 else { return }
        budget -= 1
        guard let head = terms.first else { return }
        let rest = Array(terms.dropFirst())
        switch head {
        case .keyword(let k):
            out.append(Reached(before: before, words: [k], what: "keyword \(k)"))
            walk(rest, before: before + [k], into: &out, budget: &budget)
        case .value(let v):
            if let c = v.choices { out.append(Reached(before: before, words: c, what: "a choice of \(v.placeholder)")) }
            walk(rest, before: before + [v.sample], into: &out, budget: &budget)
        case .optional(let ts):
            walk(ts + rest, before: before, into: &out, budget: &budget)
            walk(rest, before: before, into: &out, budget: &budget)
        case .repeated(let t):
            walk([t] + rest, before: before, into: &out, budget: &budget)
            walk([t, t] + rest, before: before, into: &out, budget: &budget)
        case .any(let t):
            walk(rest, before: before, into: &out, budget: &budget)
            walk([t] + rest, before: before, into: &out, budget: &budget)
            walk([t, t] + rest, before: before, into: &out, budget: &budget)
        case .oneOf(let alts):
            for a in alts { walk(a + rest, before: before, into: &out, budget: &budget) }
        }
    }

    private func offered(_ line: String, _ session: Session) -> [String] {
        completions(line: line, cursor: line.count, session: session).candidates
    }

    private func help(_ name: String) -> String {
        let c = Captured(dataDir: nil)
        c.run("help \(name)")
        return c.output
    }

    func testEveryDeclaredKeywordAndOptionIsOfferedByTabAndListedByHelp() {
        let session = Captured(dataDir: nil).session
        var keywords = 0, options = 0
        for cmd in Commands.all {
            let text = help(cmd.name)
            XCTAssertTrue(text.contains(cmd.usage), "help \(cmd.name) shows the usage line")
            // The usage line's words: a keyword or option must be there, not just somewhere in the prose.
            let usageWords = Set(cmd.usage.split(whereSeparator: { " |[]…".contains($0) }).map(String.init))
            var reached: [Reached] = []
            var budget = 2000
            for form in cmd.forms { walk(form, before: [], into: &reached, budget: &budget) }
            for r in reached {
                let line = ([cmd.name] + r.before).joined(separator: " ") + " "
                let tab = offered(line, session)
                for w in r.words {
                    XCTAssertTrue(tab.contains(w), "Tab after `\(line)` offers \(w) (\(r.what)); it offers \(tab)")
                    XCTAssertTrue(text.contains(w), "help \(cmd.name) names \(w) (\(r.what))")
                    if r.what.hasPrefix("keyword") { XCTAssertTrue(usageWords.contains(w), "the usage line of \(cmd.name) names \(w)") }
                    keywords += 1
                }
            }
            for o in cmd.options {
                XCTAssertTrue(offered("\(cmd.name) -", session).contains(o.name), "Tab offers \(cmd.name) \(o.name)")
                XCTAssertTrue(offered("\(cmd.name) \(o.name.prefix(3))", session).contains(o.name), "\(cmd.name) \(o.name.prefix(3))")
                XCTAssertTrue(usageWords.contains(o.name), "the usage line of \(cmd.name) names \(o.name)")
                if let v = o.value {
                    let tab = offered("\(cmd.name) \(o.name) ", session)
                    if let c = v.choices { XCTAssertEqual(tab, Set(c).sorted(), "the values of \(cmd.name) \(o.name)") }
                    // An option's value is never mistaken for a positional word.
                    let after = offered("\(cmd.name) \(o.name) \(v.sample) -", session)
                    XCTAssertFalse(after.contains(o.name), "\(o.name) is offered once")
                }
                options += 1
            }
            XCTAssertEqual(cmd.writesFiles, cmd.options.contains { $0.name == "--force" }, "\(cmd.name): --force iff it writes files")
        }
        // The walk reached the grammar (a declaration that lost its forms would pass vacuously otherwise).
        XCTAssertGreaterThan(keywords, 60)
        XCTAssertGreaterThan(options, 15)
    }

    /// The drift that issue 16 names: `sweep … width` is in the grammar, so Tab offers it.
    func testSweepOffersEveryKeywordIncludingWidth() {
        let session = Captured(dataDir: nil).session
        for k in ["init", "depth", "epochs", "seeds", "width"] {
            XCTAssertTrue(offered("sweep ", session).contains(k), k)
            XCTAssertTrue(offered("sweep init glorot depth 2 ", session).contains(k), k)
        }
        XCTAssertEqual(offered("sweep w", session), ["width"])
        XCTAssertEqual(offered("sweep width ", session), [], "a number comes next")
        XCTAssertTrue(offered("sweep init ", session).contains("truncnormal"))
        XCTAssertFalse(offered("sweep init ", session).contains("depth"), "at least one initialiser first")
    }

    /// The writing commands are the ones declared so, and only they take --force.
    func testForceBelongsToTheCommandsThatWriteFiles() {
        let writers = Set(Commands.all.filter(\.writesFiles).map(\.name))
        XCTAssertEqual(writers, ["export", "plot", "report", "save", "history"])
        let c = Captured(dataDir: nil)
        XCTAssertThrowsError(try c.session.execute("train --force")) { e in
            XCTAssertTrue("\(e)".contains("train: the number of epochs must be a whole number"), "\(e)")
        }
    }

    /// Options parse from the declaration: a missing value, a repeated option, an unknown one and `--opt=value`.
    func testOptionsParseAsDeclared() throws {
        let plot = try XCTUnwrap(Commands.named("plot"))
        let inv = try plot.parse(["loss", "a", "--out=x.svg", "b", "--force"])
        XCTAssertEqual(inv.words, ["loss", "a", "b"])
        XCTAssertEqual(inv.value("--out"), "x.svg")
        XCTAssertTrue(inv.flag("--force"))
        XCTAssertEqual(try plot.parse(["loss", "-o", "y.png"]).value("--out"), "y.png", "an option's alias")
        func error(_ c: Command, _ args: [String]) -> CommandError? {
            do { _ = try c.parse(args); return nil } catch { return error as? CommandError }
        }
        XCTAssertEqual(error(plot, ["loss", "--out"])?.message, "plot: --out needs a file name")
        XCTAssertEqual(error(plot, ["loss", "--out", "a.svg", "--out", "b.svg"])?.message, "plot: --out given twice")
        let unknown = error(plot, ["loss", "--bogus"])
        XCTAssertEqual(unknown?.message, "plot: unknown option --bogus (the options are --log, --out, --force)")
        XCTAssertEqual(unknown?.usage, plot.usage)
        let check = try XCTUnwrap(Commands.named("check"))
        XCTAssertEqual(error(check, ["-x"])?.message, "check: unknown option -x (the option is --all)")
        let data = try XCTUnwrap(Commands.named("data"))
        XCTAssertEqual(error(data, ["mnist", "--limit"])?.message, "data: --limit needs a number")
        // A negative number is a value, not an option; a command without options takes every word as it is.
        XCTAssertEqual(try check.parse(["-1"]).words, ["-1"])
        XCTAssertEqual(try XCTUnwrap(Commands.named("layers")).parse(["784", "--x", "10"]).words, ["784", "--x", "10"])
    }

    /// The usage lines drawn from the grammar read as they did when they were written by hand.
    func testUsageLinesFromTheGrammar() throws {
        func usage(_ n: String) throws -> String { try XCTUnwrap(Commands.named(n)).usage }
        XCTAssertEqual(try usage("data"), "data mnist|fashion|synthetic [N]|PATH|X.npy Y.npy [--limit N] [--scale unit|standard|none] [--test FRACTION] [--label COL] [--no-header] [--delimiter C] [--drop-missing] [--x KEY] [--y KEY] [--x-test KEY] [--y-test KEY]")
        XCTAssertEqual(try usage("optimizer"), "optimizer sgd LR [momentum M] | adam LR | rmsprop LR | adamw LR [WD]")
        XCTAssertEqual(try usage("plot"), "plot loss|accuracy|hidden|saturation|grads [RUN…] [--log] [--out FILE.svg|FILE.png] [--force]")
        XCTAssertEqual(try usage("train"), "train N")
        XCTAssertEqual(try usage("set"), "set [KEY VALUE]")
        XCTAssertEqual(try usage("check"), "check [RULE…] [--all]")
        XCTAssertEqual(try usage("layers"), "layers IN [HIDDEN…] OUT")
    }
}
