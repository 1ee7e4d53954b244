import PreflightEngine
import PreflightData

extension Session {
    static let dataCommands: [Command] = [
        Command(name: "data", group: .data,
                usage: "data mnist|fashion|synthetic [N]|PATH [--limit N] [--scale unit|none]",
                summary: "load a dataset and summarise it",
                details: """
                mnist, fashion: found in --data-dir / $PREFLIGHT_DATA, the cache, the Keras cache or Debian's package, else downloaded
                synthetic [N]: N generated 28x28 samples of 10 classes (default 2000), from the session's seed
                PATH: a folder with the four IDX files (gz or raw) or a Keras-style mnist.npz
                --limit N: keep the first N train and N test samples
                --scale unit (default): pixels/255 in [0,1]; none: raw 0-255 pixels (the classic bug)
                """,
                example: "data mnist --limit 10000", handler: { s, a in try s.loadData(a) }),
    ]

    func loadData(_ args: [String]) throws {
        let usage = Session.command(named: "data")!.usage
        var spec: DataSpec? = nil
        var i = 0
        var limit: Int? = nil, scaleUnit = true, synth: Int? = nil
        while i < args.count {
            let a = args[i]
            switch a {
            case "--limit":
                guard i + 1 < args.count else { throw CommandError("data: --limit needs a number", usage: usage) }
                limit = try parseCount(args[i + 1], "--limit", in: "data"); i += 2
            case "--scale":
                guard i + 1 < args.count else { throw CommandError("data: --scale needs unit or none", usage: usage) }
                switch args[i + 1].lowercased() {
                case "unit": scaleUnit = true
                case "none": scaleUnit = false
                default: throw CommandError("data: --scale must be unit or none, got `\(args[i + 1].prefix(30))`", usage: usage)
                }
                i += 2
            default:
                if a.hasPrefix("--") { throw CommandError("data: unknown option \(a.prefix(30))", usage: usage) }
                if spec == nil {
                    let known = ["mnist": "mnist", "fashion": "fashion", "fashion-mnist": "fashion", "synthetic": "synthetic"]
                    spec = DataSpec(name: known[a.lowercased()] ?? a)
                    i += 1
                } else if spec?.name == "synthetic", synth == nil {
                    synth = try parseCount(a, "the sample count", in: "data synthetic", min: 10, max: 1_000_000); i += 1
                } else {
                    throw CommandError("data: unexpected argument `\(a.prefix(30))`", usage: usage)
                }
            }
        }
        guard var sp = spec else { throw CommandError("data: which dataset?", usage: usage) }
        // $PREFLIGHT_LIMIT=N: a default --limit (the golden tests replay the examples on reduced data).
        if limit == nil, let v = Program.env("PREFLIGHT_LIMIT") {
            limit = try parseCount(v, "$PREFLIGHT_LIMIT", in: "data")
        }
        sp.limit = limit; sp.scaleUnit = scaleUnit; sp.syntheticCount = synth
        let t0 = monotonicSeconds()
        // ^C abandons a download or a long load, and a load that finishes after a ^C is dropped: the data loaded
        // before stay (the flag stays set, so a script stops here).
        LoadCancellation.requested = { Interrupt.requested }
        let console = self.console
        var lastDraw = 0.0
        let progress: ((Int, Int?) -> Void)? = console.interactive ? { done, total in
            let now = monotonicSeconds()
            guard now - lastDraw > 0.1 || done == total else { return }
            lastDraw = now
            let mb = Double(done) / 1e6
            if let total, total > 0 {
                console.out("\r\u{1B}[2Kdownloading \(fmt(mb, 1)) / \(fmt(Double(total) / 1e6, 1)) MB")
            } else {
                console.out("\r\u{1B}[2Kdownloading \(fmt(mb, 1)) MB")
            }
        } : nil
        let interruptedLoad = "data: interrupted; " + (data.map { "the data loaded before (\($0.spec.command)) are kept" } ?? "no data loaded")
        var ds: Dataset
        do {
            ds = try DatasetLoader.load(sp.name, dataDir: options.dataDir, cacheDir: options.cacheDir,
                                        syntheticCount: synth, seed: config.seed, allowDownload: options.allowDownload,
                                        progress: progress)
        } catch let e as DataError {
            if console.interactive { console.out("\r\u{1B}[2K") }
            throw CommandError(e.description)
        } catch is DataCancelled {
            if console.interactive { console.out("\r\u{1B}[2K") }
            throw CommandInterrupted(interruptedLoad)
        }
        if Interrupt.requested {
            if console.interactive { console.out("\r\u{1B}[2K") }
            throw CommandInterrupted(interruptedLoad)
        }
        if console.interactive && progress != nil { console.out("\r\u{1B}[2K") }
        if let l = limit { ds = ds.limited(to: l) }
        guard ds.train.count > 0 else { throw CommandError("data: \(sp.name) has no training samples") }
        let loaded = LoadedData(spec: sp, dataset: ds)
        if Interrupt.requested { throw CommandInterrupted(interruptedLoad) }   // ^C while the samples were converted
        data = loaded
        config.data = sp
        let secs = monotonicSeconds() - t0
        describeData(loaded, seconds: secs)
    }

    func describeData(_ d: LoadedData, seconds: Double?) {
        let ds = d.dataset
        console.info("\(console.style(d.spec.name, .bold)): \(ds.train.count) train, \(ds.test.count) test, \(ds.rows)x\(ds.cols) (\(ds.features) features), \(ds.classes) classes"
                     + (seconds.map { ", loaded in \(fmt($0 * 1000, 0)) ms" } ?? ""))
        console.info("  pixels \(d.pixelRange.lowerBound)-\(d.pixelRange.upperBound), " + (d.spec.scaleUnit ? "scaled to [\(num(d.inputMin)), \(num(d.inputMax))]" : "not scaled (--scale none): inputs up to \(num(d.inputMax))"))
        var counts = [Int](repeating: 0, count: ds.classes)
        for l in ds.train.labels where Int(l) < counts.count { counts[Int(l)] += 1 }
        let n = Double(max(ds.train.count, 1))
        let shares = counts.enumerated().map { "\($0.offset):\(fmt(Double($0.element) / n * 100, 1))%" }
        let lo = counts.min() ?? 0, hi = counts.max() ?? 0
        console.info("  class balance (train): " + shares.joined(separator: " ")
                     + (lo > 0 && Double(hi) / Double(lo) > 3 ? "  (imbalanced: largest class \(hi / max(lo, 1))x the smallest)" : ""))
        console.info("  from \(ds.source)")
    }
}
