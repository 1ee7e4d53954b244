import Foundation
import XCTest
import PreflightShell

/// Issue 19: ^C in scripts and long commands, `-i` after a failing script, what `history save` replays, `source`
/// paths, and the small things around them.
final class InterruptAndReplayTests: XCTestCase {
    override func tearDown() { Interrupt.clear() }

    /// Starts the release binary with output into files, waits until stdout contains `marker`, sends SIGINT and
    /// waits for the exit. Returns (status, stdout, stderr).
    private func interrupt(_ args: [String], at marker: String, cwd: URL? = nil, stdin: String? = nil) throws -> (Int32, String, String) {
        let exe = packageRoot.appendingPathComponent(".build/release/preflight")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else { throw XCTSkip("release binary not built") }
        let dir = tempDir()
        let outPath = dir.path + "/out", errPath = dir.path + "/err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        e["NO_COLOR"] = "1"
        p.environment = e
        if let cwd { p.currentDirectoryURL = cwd }
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        if let stdin {
            try stdin.write(toFile: dir.path + "/in", atomically: true, encoding: .utf8)
            p.standardInput = FileHandle(forReadingAtPath: dir.path + "/in")
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning,
              !((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "").contains(marker) { usleep(20_000) }
        XCTAssertTrue(p.isRunning, "the program ended before `\(marker)` appeared")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    // MARK: item 8: a script interrupted stops there and exits 130, keeping what was recorded

    func testCtrlCStopsACommandLineScriptWithStatus130() throws {
        let dir = tempDir()
        let (status, out, err) = try interrupt(["-c", "data synthetic 2000; layers 784 64 10; train 100000; export \(dir.path)/after.json"],
                                               at: "epoch   2")
        XCTAssertEqual(status, 130, out + err)
        XCTAssertTrue(out.contains("interrupted"), out)
        XCTAssertTrue(err.contains("-c:1: interrupted"), err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/after.json"), "the script stopped before export")
    }

    func testCtrlCStopsAScriptFileAndTheCommandsAfterIt() throws {
        let dir = tempDir()
        try "data synthetic 2000\nlayers 784 64 10\ntrain 100000\nsave \(dir.path)/s.npz\n"
            .write(toFile: dir.path + "/t.pf", atomically: true, encoding: .utf8)
        let (status, _, err) = try interrupt([dir.path + "/t.pf", "-c", "export \(dir.path)/x.json"], at: "epoch   2")
        XCTAssertEqual(status, 130, err)
        XCTAssertTrue(err.contains("t.pf:3: interrupted"), err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/s.npz"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/x.json"), "-c after the script is not run either")
    }

    func testCtrlCStopsAScriptOnStandardInput() throws {
        let dir = tempDir()
        let (status, _, err) = try interrupt([], at: "epoch   2",
                                             stdin: "data synthetic 2000\nlayers 784 64 10\ntrain 100000\nexport \(dir.path)/x.json\n")
        XCTAssertEqual(status, 130, err)
        XCTAssertTrue(err.contains("<stdin>:3: interrupted"), err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/x.json"))
    }

    // MARK: item 7: long commands stop at ^C and leave the session as it was

    func testCtrlCDuringALargeSyntheticLoadKeepsTheDataLoadedBefore() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300")
        let before = c.session.data
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { Interrupt.request() }
        XCTAssertThrowsError(try c.session.execute("data synthetic 1000000")) { e in
            XCTAssertTrue(e is CommandInterrupted, "\(e)")
            XCTAssertTrue("\(e)".contains("data synthetic 300"), "\(e)")
        }
        XCTAssertEqual(c.session.data?.spec, before?.spec, "the data loaded before are kept")
        XCTAssertEqual(c.session.data?.train.count, 300)
        XCTAssertFalse(c.session.history.contains { $0.line.contains("1000000") }, "nothing to replay")
    }

    func testCtrlCStopsOverfitWithoutAResult() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10")
        c.clear()
        Interrupt.request()
        XCTAssertThrowsError(try c.session.execute("overfit")) { e in XCTAssertTrue(e is CommandInterrupted, "\(e)") }
        XCTAssertFalse(c.output.contains("overfit: ok") || c.output.contains("overfit: FAIL"), c.output)
    }

    // MARK: item 9: -i with a failing line stays at the prompt

    func testInteractiveFlagStaysAfterAFailingScript() throws {
        let dir = tempDir()
        try "data synthetic 300\nlayers 784 16 10\ntrain 1\nbogus\ntrain 1\n".write(toFile: dir.path + "/t.pf", atomically: true, encoding: .utf8)
        let (status, out, err) = try runBinary(["-i", dir.path + "/t.pf"], stdin: "runs\n")
        XCTAssertTrue(err.contains("t.pf:4: error: unknown command `bogus`"), err)
        XCTAssertTrue(out.contains("run1"), "the session went on with what the script built:\n" + out)
        XCTAssertFalse(out.contains("epoch   2"), "the script stopped at its failing line")
        XCTAssertEqual(status, 1, "the script failed")
    }

    // MARK: item 11: history save writes what happened

    func testInterruptedTrainIsSavedAsTheEpochsItTrained() throws {
        let (console, box) = interruptingConsole(interactive: false) { $0.hasPrefix("epoch   4") }
        let s = Session(console: console, options: SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "pf-cache"))
        try s.execute("data synthetic 300")
        try s.execute("layers 784 16 10")
        try s.execute("train 30")
        XCTAssertTrue(Interrupt.requested, "the flag stays for a script runner to see")
        Interrupt.clear()
        XCTAssertEqual(s.currentRun?.trainer.epochs.count, 4)
        let script = s.replayScript()
        XCTAssertTrue(script.contains("\ntrain 4\n"), script)
        XCTAssertFalse(script.contains("train 30\n"), script)
        XCTAssertTrue(script.contains("# `train 30` was interrupted after 4 of 30 epochs"), script)
        // The saved script replays to the same records.
        let dir = tempDir()
        try s.execute("history save \(dir.path)/h.pf")
        try s.execute("export \(dir.path)/a.json --no-timings")
        let (status, _, err) = try runBinary([dir.path + "/h.pf", "-c", "export \(dir.path)/b.json --no-timings"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/a.json")),
                       try Data(contentsOf: URL(fileURLWithPath: dir.path + "/b.json")))
    }

    func testInterruptedSweepIsSavedAsTheRunsThatRan() throws {
        let (console, box) = interruptingConsole { $0.contains("glorot-d2-s0 epoch 2/") }
        let s = Session(console: console, options: SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "pf-cache"))
        try s.execute("data synthetic 300")
        // One run after the other, so that the progress line that presses ^C is drawn while its run trains (two at
        // a time, a run on the other thread is drawn as it is polled: see testInterruptedTwoAtATimeSweepReplays).
        try s.execute("set threads 1")
        try s.execute("sweep init glorot depth 1 2 epochs 3 seeds 2 width 8")
        Interrupt.clear()
        XCTAssertEqual(s.runs.map(\.name), ["glorot-d1-s0", "glorot-d1-s1", "glorot-d2-s0"])
        // ^C came in epoch 2 of the third run: at its end or in it (the progress line's timing decides).
        let whole = s.runs[2].trainer.epochs.filter(\.complete).count
        XCTAssertTrue((1...2).contains(whole), "\(whole)")
        let script = s.replayScript()
        XCTAssertFalse(script.contains("depth 1 2"), script)
        XCTAssertTrue(script.contains("sweep init glorot depth 1 epochs 3 seeds 2 width 8\n"), script)
        let commands = script.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        XCTAssertTrue(commands.hasSuffix("seed 0\nsweep init glorot depth 2 epochs \(whole) width 8\nseed 0"), script)
        XCTAssertTrue(script.contains("# run glorot-d2-s0 was stopped after \(whole) whole epochs"), script)
        // The footer does not claim two seeds for the row that ran one.
        XCTAssertFalse(box.out.contains("over 2 seeds"), box.out)
        XCTAssertTrue(box.out.contains("over the seeds each row ran (1 or 2)"), box.out)
        // Replayed: the same runs, each with the whole epochs it finished, and the same first epoch.
        let dir = tempDir()
        try script.write(toFile: dir.path + "/h.pf", atomically: true, encoding: .utf8)
        let (status, _, err) = try runBinary([dir.path + "/h.pf", "-c", "export \(dir.path)/b.json"])
        XCTAssertEqual(status, 0, err)
        let runs = try loadJSON(dir.path + "/b.json")["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["name"] as! String }, ["glorot-d1-s0", "glorot-d1-s1", "glorot-d2-s0"])
        XCTAssertEqual(runs.map { ($0["epochs"] as! [Any]).count }, [3, 3, whole])
        let replayed = (runs[2]["epochs"] as! [[String: Any]])[0]["train_loss"] as! Double
        XCTAssertEqual(replayed, s.runs[2].trainer.epochs[0].trainLoss, accuracy: 1e-12)
    }

    /// Two runs at a time, ^C in the first: whatever the timing, the runs kept are the first ones in sweep order,
    /// all whole but the last, and the saved history replays them to the same records.
    func testInterruptedTwoAtATimeSweepReplays() throws {
        let (console, box) = interruptingConsole { $0.contains("glorot-d1-s0 epoch 2/") }
        let s = Session(console: console, options: SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "pf-cache"))
        try s.execute("data synthetic 600")
        try s.execute("set threads 2")
        try s.execute("sweep init glorot depth 1 2 epochs 3 seeds 2 width 8")
        XCTAssertTrue(Interrupt.requested)
        Interrupt.clear()
        XCTAssertEqual(s.sweepLanes, 2)
        let order = ["glorot-d1-s0", "glorot-d1-s1", "glorot-d2-s0", "glorot-d2-s1"]
        let names = s.runs.map(\.name)
        XCTAssertFalse(names.isEmpty)
        XCTAssertEqual(names, Array(order.prefix(names.count)), "the runs kept come first in sweep order")
        for r in s.runs.dropLast() {
            XCTAssertEqual(r.trainer.epochs.count, 3, r.name)
            XCTAssertTrue(r.trainer.epochs.allSatisfy(\.complete), r.name)
        }
        XCTAssertTrue(box.out.contains("interrupted: \(names.count) of 4 runs"), box.out)
        // Replayed: the runs with a whole epoch, each with the whole epochs it finished, and the same first epoch.
        let kept = s.runs.filter { $0.trainer.epochs.contains(where: \.complete) }
        let dir = tempDir()
        try s.replayScript().write(toFile: dir.path + "/h.pf", atomically: true, encoding: .utf8)
        let (status, _, err) = try runBinary([dir.path + "/h.pf", "-c", "export \(dir.path)/b.json"])
        XCTAssertEqual(status, 0, err)
        let runs = try loadJSON(dir.path + "/b.json")["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["name"] as! String }, kept.map(\.name))
        XCTAssertEqual(runs.map { ($0["epochs"] as! [Any]).count }, kept.map { $0.trainer.epochs.filter(\.complete).count })
        for (j, r) in zip(runs, kept) {
            let replayed = (j["epochs"] as! [[String: Any]])[0]["train_loss"] as! Double
            XCTAssertEqual(replayed, r.trainer.epochs[0].trainLoss, accuracy: 1e-12, r.name)
        }
    }

    func testSourceIsSavedAsOneLineWithItsFullPath() throws {
        let dir = tempDir()
        try "seed 3\ndata synthetic 300\n".write(toFile: dir.path + "/inner.pf", atomically: true, encoding: .utf8)
        let c = Captured(dataDir: nil)
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        c.run("source inner.pf; layers 784 8 10")
        let script = c.session.replayScript()
        XCTAssertEqual(script.split(separator: "\n").dropFirst().map(String.init), ["source \(dir.path)/inner.pf", "layers 784 8 10"])
        // A script that stops keeps the lines that ran (the whole script would do more).
        try "seed 4\nbogus\nseed 5\n".write(toFile: dir.path + "/bad.pf", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try c.session.execute("source bad.pf"))
        let after = c.session.replayScript()
        XCTAssertTrue(after.hasSuffix("# from bad.pf, which stopped before its end\nseed 4\n"), after)
    }

    // MARK: item 16: source paths

    func testSourceFindsARelativePathFromTheSourcingScriptsFolder() throws {
        let dir = tempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/lib", withIntermediateDirectories: true)
        try "source b.pf\n".write(toFile: dir.path + "/lib/a.pf", atomically: true, encoding: .utf8)
        try "seed 5\n".write(toFile: dir.path + "/lib/b.pf", atomically: true, encoding: .utf8)
        let (status, out, err) = try runBinary(["-c", "source lib/a.pf; set"], cwd: dir)
        XCTAssertEqual(status, 0, err)
        XCTAssertNotNil(out.range(of: #"seed\s+5"#, options: .regularExpression), out)
    }

    func testMutualSourcingIsReportedWhereTheLoopCloses() throws {
        let dir = tempDir()
        try "seed 1\nsource b.pf\n".write(toFile: dir.path + "/a.pf", atomically: true, encoding: .utf8)
        try "source a.pf\n".write(toFile: dir.path + "/b.pf", atomically: true, encoding: .utf8)
        let (status, _, err) = try runBinary([dir.path + "/a.pf"])
        XCTAssertEqual(status, 1)
        let lines = err.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix(dir.path + "/b.pf:1: error: source: b.pf sources a.pf, which is already running (a.pf → b.pf → a.pf)") == true, err)
        XCTAssertTrue(lines.contains { $0.hasPrefix(dir.path + "/a.pf:2: error") }, err)
    }

    // MARK: item 10: the shared history file keeps the last entries, in libedit's format

    func testHistoryFileAppendsEncodesAndKeepsTheLastEntries() throws {
        let path = tempDir().path + "/state/history"
        for i in 1...1005 { XCTAssertTrue(HistoryFile.append("seed \(i)", to: path, cap: 1000)) }
        XCTAssertTrue(HistoryFile.append("source \"a b\\c.pf\"", to: path, cap: 1000))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "_HiStOrY_V2_")
        XCTAssertEqual(lines.count, 1001, "the header and the last 1000 entries")
        XCTAssertEqual(lines[1], "seed\\0407", "the oldest entries went first; a space is written \\040")
        XCTAssertEqual(lines.last, "source\\040\"a\\040b\\\\c.pf\"", "a backslash is doubled")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent), ["history"])
    }

    // MARK: item 15, small things

    func testThreadsAcceptsOnlyWhatTheEngineHas() {
        let c = Captured(dataDir: nil)
        for bad in ["3", "64", "-1", "many"] {
            XCTAssertThrowsError(try c.session.execute("set threads \(bad)"), bad)
        }
        c.run("set threads 2; set threads 1; set threads auto")
        XCTAssertEqual(c.session.threads, 0)
    }

    func testByteOrderMarkStartsAScriptWithoutAnError() {
        let c = Captured(dataDir: nil)
        XCTAssertTrue(ScriptRunner(session: c.session).run(text: "\u{FEFF}seed 3\nbatch 20\n", name: "bom.pf", keepGoing: false), c.errors)
        XCTAssertEqual(c.session.config.seed, 3)
    }

    func testEchoShowsTheFailingCommandToo() throws {
        let (status, out, _) = try runBinary(["--echo", "-c", "seed 1; bogus 2"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(out.contains("preflight> seed 1"), out)
        XCTAssertTrue(out.contains("preflight> bogus 2"), out)
    }

    func testHistoryOnAFreshSessionSaysSo() {
        let c = Captured(dataDir: nil)
        c.run("history 5")
        XCTAssertTrue(c.output.contains("no commands yet"), c.output)
    }

    // MARK: item 14: paths

    func testTildeNamesTheHomeFolderInPathArguments() throws {
        let home = tempDir(), cwd = tempDir()
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let (status, _, err) = try runBinary(["-c", "data synthetic 300; layers 784 8 10; train 1; export ~/x.json; save ~/s.npz; report ~/r.html; history save ~/h.pf; plot loss --out ~/p.svg"],
                                             env: ["HOME": home.path], cwd: cwd)
        XCTAssertEqual(status, 0, err)
        for f in ["x.json", "s.npz", "r.html", "h.pf", "p.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: home.path + "/" + f), f)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd.path + "/~"), "no folder named ~")
    }

    func testMissingFoldersOfAnOutputAreCreatedAndNamed() throws {
        let dir = tempDir()
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 8 10; train 1")
        c.clear()
        c.run("plot loss --out \(dir.path)/a/b/x.svg")
        XCTAssertTrue(c.output.contains("created folder \(dir.path)/a\n"), c.output)
        XCTAssertTrue(c.output.contains("created folder \(dir.path)/a/b\n"), c.output)
        c.clear()
        c.run("plot loss --out \(dir.path)/a/b/y.svg")
        XCTAssertFalse(c.output.contains("created folder"), "nothing new to create: " + c.output)
    }

    // MARK: item 12: the ETA covers the whole command

    func testETACoversTheEpochsStillToCome() {
        // The last batch of epoch 2 of `train 5`: three whole epochs remain.
        XCTAssertEqual(Commands.commandETA(batch: 20, batches: 20, epochsLeft: 3, secondsPerBatch: 0.01, secondsPerEpoch: 1.5), 4.5, accuracy: 1e-9)
        // Half-way through the first epoch, timed from the batches: half an epoch plus four more.
        XCTAssertEqual(Commands.commandETA(batch: 10, batches: 20, epochsLeft: 4, secondsPerBatch: 0.1, secondsPerEpoch: nil), 9, accuracy: 1e-9)
        XCTAssertEqual(Commands.commandETA(batch: 20, batches: 20, epochsLeft: 0, secondsPerBatch: 0.1, secondsPerEpoch: nil), 0)
    }

    // MARK: item 18: show init says which std it prints

    func testShowInitExplainsTheTruncatedNormalsSigma() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10; init he")
        c.clear()
        c.run("show init")
        let std = (2.0 / 784).squareRoot()   // help init's √(2/fan_in)
        XCTAssertTrue(c.output.contains(String(format: "std √(2/fan_in) = %.6f", std)), c.output)
        XCTAssertTrue(c.output.contains(String(format: "σ %.6f", std / 0.87962566103423978)), c.output)
        XCTAssertFalse(c.output.contains(String(format: "std %.6f", std / 0.87962566103423978)), "σ is not called std: " + c.output)
    }

    // MARK: item 12: compare at a narrow terminal

    func testCompareOnANarrowTerminalShowsEveryRun() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 8 10; run alpha; train 1; run bravo; train 1; run charlie; train 1")
        c.session.console.interactive = true
        c.session.console.width = 40
        c.clear()
        c.run("compare alpha bravo charlie")
        for name in ["alpha", "bravo", "charlie"] { XCTAssertTrue(c.output.contains(name), c.output) }
        for line in c.output.split(separator: "\n") { XCTAssertLessThanOrEqual(visibleWidth(String(line)), 40, String(line)) }
    }
}

/// Issue 19, item 18: under a non-UTF-8 locale a piped chart is ASCII, as the README says.
final class LocaleChartTests: XCTestCase {
    func testPipedChartIsASCIIUnderTheCLocale() throws {
        let cmds = "data synthetic 300; layers 784 8 10; train 2; plot loss"
        let (status, out, err) = try runBinary(["-c", cmds], env: ["LC_ALL": "C"])
        XCTAssertEqual(status, 0, err)
        let chart = out.components(separatedBy: "Loss per epoch").last ?? ""
        XCTAssertFalse(chart.isEmpty, out)
        XCTAssertTrue(chart.unicodeScalars.allSatisfy(\.isASCII), chart)
        // Under a UTF-8 locale the same chart is drawn with braille.
        let (_, utf8, _) = try runBinary(["-c", cmds], env: ["LC_ALL": "C.UTF-8"])
        XCTAssertTrue(utf8.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) }, utf8)
    }
}
