import Foundation
import XCTest

/// Golden transcripts: every script in examples/ is replayed through the real release binary and its
/// output (stdout, then stderr, then the exit status) is compared with Tests/Golden/<example>.txt,
/// timings masked. A changed number shows as a diff of the first differing lines.
///
/// - The binary: $PREFLIGHT_BIN, else .build/release/preflight under the package root (skipped, visibly, if absent).
/// - Data: MNIST from $PREFLIGHT_DATA (examples that load it are skipped, visibly, without it); Fashion-MNIST
///   from the usual places. Every example runs with PREFLIGHT_LIMIT (default 5000): `data` then keeps the
///   first N train and N test samples, so the suite runs in well under two minutes. The scripts are unchanged.
/// - Each example runs in a fresh temporary folder (a copy of the script under examples/), so the pictures it
///   writes to docs/ land there, never over the committed ones.
/// - `scripts/regen-golden` regenerates the transcripts: it runs this suite with PREFLIGHT_REGEN_GOLDEN=1,
///   which writes the files instead of comparing.
final class GoldenTests: XCTestCase {
    static let limit = ProcessInfo.processInfo.environment["PREFLIGHT_GOLDEN_LIMIT"] ?? "5000"
    static let examplesDir = packageRoot.appendingPathComponent("examples")
    static let goldenDir = packageRoot.appendingPathComponent("Tests/Golden")
    static var regenerate: Bool { ProcessInfo.processInfo.environment["PREFLIGHT_REGEN_GOLDEN"] == "1" }

    func testQuickstart() throws { try golden("quickstart") }
    func testGlorot() throws { try golden("glorot") }
    func testTwoHidden() throws { try golden("two-hidden") }
    func testThreeHidden() throws { try golden("three-hidden") }
    func testFourHidden() throws { try golden("four-hidden") }
    func testUnscaledInputs() throws { try golden("unscaled-inputs") }
    func testSweep() throws { try golden("sweep") }
    func testTabular() throws { try golden("tabular") }
    func testFix() throws { try golden("fix") }

    /// Every example has a test above and a transcript; every transcript has an example.
    func testEveryExampleHasATranscript() throws {
        let fm = FileManager.default
        let examples = try fm.contentsOfDirectory(atPath: Self.examplesDir.path).filter { $0.hasSuffix(".pf") }
            .map { String($0.dropLast(3)) }.sorted()
        let tested = ["quickstart", "glorot", "two-hidden", "three-hidden", "four-hidden", "unscaled-inputs", "sweep", "tabular", "fix"].sorted()
        XCTAssertEqual(examples, tested, "examples/*.pf and the golden tests differ: add a test method (and run scripts/regen-golden)")
        if !Self.regenerate {
            let transcripts = ((try? fm.contentsOfDirectory(atPath: Self.goldenDir.path)) ?? []).filter { $0.hasSuffix(".txt") }
                .map { String($0.dropLast(4)) }.sorted()
            XCTAssertEqual(transcripts, examples, "Tests/Golden/*.txt and examples/*.pf differ: run scripts/regen-golden")
        }
        for e in examples {
            let text = try String(contentsOf: Self.examplesDir.appendingPathComponent(e + ".pf"), encoding: .utf8)
            XCTAssertTrue(text.hasPrefix("#"), "examples/\(e).pf must begin with comments saying what it shows")
        }
    }

    /// The binary to replay with.
    static func binary() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        let exe = env["PREFLIGHT_BIN"].map { URL(fileURLWithPath: $0) } ?? packageRoot.appendingPathComponent(".build/release/preflight")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw XCTSkip("golden transcripts: \(exe.path) not built (swift build -c release, or set PREFLIGHT_BIN)")
        }
        return exe
    }

    func golden(_ name: String) throws {
        let exe = try Self.binary()
        let script = try String(contentsOf: Self.examplesDir.appendingPathComponent(name + ".pf"), encoding: .utf8)
        let env = ProcessInfo.processInfo.environment
        var args = ["--no-color", "--no-download"]
        if script.range(of: #"(?m)^\s*data\s+mnist\b"#, options: .regularExpression) != nil {
            guard let d = mnistDir else {
                throw XCTSkip("needs MNIST itself (examples/\(name).pf): set PREFLIGHT_DATA to a folder holding mnist/")
            }
            args += ["--data-dir", d]
        } else if let d = env["PREFLIGHT_DATA"] {
            args += ["--data-dir", d]
        }
        // A fresh folder holding examples/NAME.pf: messages name the script as in the repository, pictures stay here.
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("examples"), withIntermediateDirectories: true)
        try script.write(to: dir.appendingPathComponent("examples/\(name).pf"), atomically: true, encoding: .utf8)
        // The data sets shipped with the examples (examples/data/…), read where they are.
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("examples/data"),
                                                   withDestinationURL: Self.examplesDir.appendingPathComponent("data"))
        args.append("examples/\(name).pf")

        let t0 = Date()
        let (status, out, err) = try Self.run(exe, args, cwd: dir, env: [
            "PREFLIGHT_LIMIT": Self.limit, "NO_COLOR": "1",
            "XDG_CACHE_HOME": dir.appendingPathComponent("cache").path,
            "XDG_STATE_HOME": dir.appendingPathComponent("state").path,
        ])
        var transcript = "$ PREFLIGHT_LIMIT=\(Self.limit) preflight --no-color examples/\(name).pf\n" + out
        if !err.isEmpty { transcript += "[stderr]\n" + err }
        transcript += "[exit \(status)]\n"
        transcript = Self.mask(transcript)
        print("golden \(name): \(String(format: "%.1f", Date().timeIntervalSince(t0)))s")

        let file = Self.goldenDir.appendingPathComponent(name + ".txt")
        if Self.regenerate {
            try FileManager.default.createDirectory(at: Self.goldenDir, withIntermediateDirectories: true)
            try transcript.write(to: file, atomically: true, encoding: .utf8)
            print("wrote \(file.path)")
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            XCTFail("no transcript Tests/Golden/\(name).txt: run scripts/regen-golden")
            return
        }
        if let diff = Self.firstDifference(expected: expected, actual: transcript) {
            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("preflight-golden-\(name).txt")
            try? transcript.write(to: saved, atomically: true, encoding: .utf8)
            XCTFail("examples/\(name).pf: output differs from Tests/Golden/\(name).txt\n\(diff)\nwhole output: \(saved.path)\n(if the change is intended: scripts/regen-golden)")
        }
    }

    /// Masks what varies from run to run: timings, throughput, where the data were found.
    static func mask(_ s: String) -> String {
        let rules: [(String, String)] = [
            (#"loaded in \d+ ms"#, "loaded in # ms"),
            (#"\d+(\.\d+)?[kM]? samples/s"#, "# samples/s"),
            (#"ETA \d+s"#, "ETA #s"),
            (#"(?<![\w.])\d+(\.\d+)?s\b"#, "#s"),
            (#"(?m)^(\s*)from /.*$"#, "$1from <data folder>"),
        ]
        var t = s
        for (pattern, template) in rules {
            t = t.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
        }
        return t
    }

    /// nil when equal; else the first differing line with a few lines of context from both sides.
    static func firstDifference(expected: String, actual: String, context: Int = 3) -> String? {
        if expected == actual { return nil }
        let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
        var i = 0
        while i < e.count, i < a.count, e[i] == a[i] { i += 1 }
        let lo = max(0, i - context)
        var text = "first difference at line \(i + 1):\n"
        for k in lo..<i { text += "    \(k + 1)  \(e[k])\n" }
        // The next lines: equal ones once, differing ones as an expected/actual pair.
        for k in i..<min(max(e.count, a.count), i + 2 * context + 1) {
            let ek = k < e.count ? e[k] : nil, ak = k < a.count ? a[k] : nil
            if ek == ak { text += "    \(k + 1)  \(ek ?? "")\n"; continue }
            text += "  - \(k + 1)  \(ek ?? "<no line>")\n"
            text += "  + \(k + 1)  \(ak ?? "<no line>")\n"
        }
        let changed = zip(e, a).filter { $0 != $1 }.count + abs(e.count - a.count)
        text += "(\(changed) line(s) differ; expected \(e.count) lines, got \(a.count); - expected, + actual)"
        return text
    }

    static func run(_ exe: URL, _ args: [String], cwd: URL, env extra: [String: String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        e.removeValue(forKey: "PREFLIGHT_LIMIT")
        for (k, v) in extra { e[k] = v }
        p.environment = e
        p.currentDirectoryURL = cwd
        let o = Pipe(), er = Pipe(), i = Pipe()
        p.standardOutput = o; p.standardError = er; p.standardInput = i
        try p.run()
        try i.fileHandleForWriting.close()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        let errHandle = er.fileHandleForReading
        DispatchQueue.global().async { errBox.data = errHandle.readDataToEndOfFile(); group.leave() }
        let outData = o.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
