import Foundation
import XCTest

/// The README's session is real output: its commands run, and what it shows (first-batch figures, check rows,
/// messages) is what the program prints. Per-epoch lines and load times depend on the machine and are skipped.
final class ReadmeTests: XCTestCase {
    private func collapse(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    func testTheSessionInTheReadmeIsWhatTheProgramPrints() throws {
        let data = try skipWithoutMNIST()
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "```\n$ preflight\n") else { return XCTFail("no session block in the README") }
        let block = readme[start.upperBound...].components(separatedBy: "```")[0]
        let lines = block.split(separator: "\n").map(String.init)
        let commands = lines.filter { $0.hasPrefix("preflight> ") }.map { String($0.dropFirst("preflight> ".count)) }
        XCTAssertGreaterThan(commands.count, 3)
        let (status, out, err) = try runBinary(["--echo", "-c", commands.joined(separator: "; ")], env: ["PREFLIGHT_DATA": data])
        XCTAssertEqual(status, 0, "every command of the README's session runs: " + err)
        let printed = out.split(separator: "\n").map { collapse(String($0)) }
        var checked = 0
        for l in lines where !l.hasPrefix("preflight> ") {
            let c = collapse(l)
            if c.isEmpty || c == "…" || c.hasPrefix("epoch ") || c.contains("loaded in") { continue }
            if let cut = c.range(of: "…") {
                let head = collapse(String(c[..<cut.lowerBound]))
                XCTAssertTrue(printed.contains { $0.hasPrefix(head) }, "README shows `\(l)`; the program printed:\n\(out)")
            } else {
                XCTAssertTrue(printed.contains(c), "README shows `\(l)`; the program printed:\n\(out)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
    }
}

extension ReadmeTests {
    /// Every setting `set` lists (sgd's momentum included) is in the README's `set` row, and `set` refuses a
    /// thread count the engine does not have, as the README says.
    func testEverySettingIsInTheReadme() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let row = readme.split(separator: "\n").first(where: { $0.hasPrefix("| `set` ") }) else { return XCTFail("no set row") }
        let c = Captured(dataDir: nil)
        c.run("optimizer sgd 0.1 momentum 0.9; set")
        let keys = c.output.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { !$0.hasPrefix("check.") }
        XCTAssertTrue(keys.contains("memory") && keys.contains("momentum"), c.output)
        for k in keys { XCTAssertTrue(row.contains("`\(k)`") || row.contains("`\(k) "), "`\(k)` is missing from the README's set row") }
        XCTAssertTrue(row.contains("`threads` (`auto`, 1 or 2"), String(row))
    }
}
