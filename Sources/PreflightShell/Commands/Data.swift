import Foundation
import PreflightEngine
import PreflightData

extension Commands {
    static let data = Command(
        "data", group: .data,
        forms: [[.oneOf([[.value(.choice(["mnist", "fashion"]))], [.keyword("synthetic"), .optional([.value(.count())])],
                         [.value(.path("PATH"))], [.value(.path("X.npy", suffix: ".npy")), .value(.path("Y.npy"))]])]],
        options: [
            CommandOption("--limit", .count(what: "a number")),
            CommandOption("--scale", .choice(ScaleMode.allCases.map(\.rawValue), what: "unit, standard or none")),
            CommandOption("--test", .number("FRACTION", what: "a fraction between 0 and 1")),
            CommandOption("--label", .text("COL", what: "a column name or number")),
            CommandOption("--no-header"),
            CommandOption("--delimiter", Value("C", what: "a character (or tab)", choices: [",", ";", "tab", "|"], sample: ",")),
            CommandOption("--drop-missing"),
            CommandOption("--x", .text("KEY", what: "an array name")),
            CommandOption("--y", .text("KEY", what: "an array name")),
            CommandOption("--x-test", .text("KEY", what: "an array name")),
            CommandOption("--y-test", .text("KEY", what: "an array name")),
        ],
        brief: "data NAME|PATH [options]",
        summary: "load a dataset and summarise it",
        details: """
        mnist, fashion: found in --data-dir / $PREFLIGHT_DATA, the cache, the Keras cache or Debian's package, else downloaded
        synthetic [N]: N generated 28x28 samples of 10 classes (default 2000), from the session's seed
        PATH: a folder with the four IDX files (gz or raw), an .npz archive, or a CSV table (.csv; .tsv is tab-separated)
        X.npy Y.npy: features (any numeric dtype, any sample shape, flattened) and labels (integers or strings)
        --limit N: keep the first N train and N test samples
        --scale unit (default): bytes (pixels)/255, other features to [0,1] by their training min and max;
          standard: each feature minus its training mean, over its training std; none: as read (the classic bug)
        --test FRACTION: for data without a test split, the share drawn (per class, from the seed) for testing (default 0.2)
        CSV: --label COL (a header name or a column number from 1; default the last column), --no-header,
          --delimiter C (a character, or tab), --drop-missing (drop rows with a missing cell instead of refusing)
        .npz: --x KEY --y KEY (default x_train y_train), --x-test KEY --y-test KEY (default x_test y_test)
        labels: integers 0…C−1 (C ≤ 1000), or text: classes in sorted order, the mapping printed and recorded
        """,
        example: "data examples/data/breast-cancer.csv --scale standard",
        run: { s, inv in try loadData(s, inv) })
}

extension Commands {
    /// What kind of file a path names, by its extension: decides which options apply.
    private enum FileKind { case table, npz, npy, other }

    private static func fileKind(_ name: String) -> FileKind {
        let l = name.lowercased()
        if [".csv", ".tsv", ".tab", ".txt", ".data"].contains(where: { l.hasSuffix($0) }) { return .table }
        if l.hasSuffix(".npz") { return .npz }
        if l.hasSuffix(".npy") { return .npy }
        return .other
    }

    static func loadData(_ s: Session, _ inv: Invocation) throws {
        var spec: DataSpec? = nil
        var limit: Int? = nil, scale = ScaleMode.unit, synth: Int? = nil
        var pending = DataSpec(name: "")
        let csvOptions = inv.given.filter { ["--label", "--no-header", "--drop-missing", "--delimiter"].contains($0) }
        let npzOptions = inv.given.filter { ["--x", "--y", "--x-test", "--y-test"].contains($0) }
        if let v = inv.value("--limit") { limit = try parseCount(v, "--limit", in: "data") }
        if let v = inv.value("--scale") {
            guard let m = ScaleMode(rawValue: v.lowercased()) else {
                throw inv.usageError("data: --scale must be unit, standard or none, got `\(v.prefix(30))`")
            }
            scale = m
        }
        if let v = inv.value("--test") {
            guard let f = Double(v), f > 0, f < 1 else {
                throw inv.usageError("data: --test must be a fraction between 0 and 1 (e.g. 0.2), got `\(v.prefix(30))`")
            }
            pending.testFraction = f
        }
        pending.labelColumn = inv.value("--label")
        if inv.flag("--no-header") { pending.noHeader = true }
        if inv.flag("--drop-missing") { pending.dropMissing = true }
        if let v = inv.value("--delimiter") {
            let d = v.lowercased() == "tab" || v == "\\t" ? "\t" : v
            guard d.utf8.count == 1, d != "\"", d != "\n" else {
                throw inv.usageError("data: --delimiter must be one ASCII character (or tab), got `\(v.prefix(30))`")
            }
            pending.delimiter = d
        }
        pending.xKey = inv.value("--x"); pending.yKey = inv.value("--y")
        pending.xTestKey = inv.value("--x-test"); pending.yTestKey = inv.value("--y-test")
        for a in inv.words {
            if spec == nil {
                let known = ["mnist": "mnist", "fashion": "fashion", "fashion-mnist": "fashion", "synthetic": "synthetic"]
                spec = DataSpec(name: known[a.lowercased()] ?? a)
            } else if spec?.name == "synthetic", synth == nil {
                synth = try parseCount(a, "the sample count", in: "data synthetic", min: 10, max: 1_000_000)
            } else if spec?.labelsPath == nil, !["mnist", "fashion", "synthetic"].contains(spec!.name) {
                spec!.labelsPath = a
            } else {
                throw inv.usageError("data: unexpected argument `\(a.prefix(30))`")
            }
        }
        guard var sp = spec else { throw inv.usageError("data: which dataset?") }
        let named = ["mnist", "fashion", "synthetic"].contains(sp.name)
        let kind = Commands.fileKind(sp.name)
        if let y = sp.labelsPath, kind != .npy && kind != .other {
            throw inv.usageError("data: a second file (\(y.prefix(40))) goes with an .npy of features: data X.npy Y.npy")
        }
        if let o = csvOptions.first, named || kind == .npz || kind == .npy {
            throw inv.usageError("data: \(o) applies to CSV tables, not to \(named ? sp.name : (sp.name as NSString).lastPathComponent)")
        }
        if let o = npzOptions.first, named || kind == .table || kind == .npy {
            throw inv.usageError("data: \(o) applies to .npz archives, not to \(named ? sp.name : (sp.name as NSString).lastPathComponent)")
        }
        if kind == .npy && sp.labelsPath == nil {
            throw inv.usageError("data: an .npy holds one array: give the features and the labels, data X.npy Y.npy")
        }
        if named && pending.testFraction != nil {
            throw inv.usageError("data: --test applies to data without a test split; \(sp.name) has one")
        }
        sp.labelColumn = pending.labelColumn; sp.noHeader = pending.noHeader; sp.delimiter = pending.delimiter
        sp.dropMissing = pending.dropMissing; sp.xKey = pending.xKey; sp.yKey = pending.yKey
        sp.xTestKey = pending.xTestKey; sp.yTestKey = pending.yTestKey; sp.testFraction = pending.testFraction
        // $PREFLIGHT_LIMIT=N: a default --limit (the golden tests replay the examples on reduced data).
        if limit == nil, let v = Program.env("PREFLIGHT_LIMIT") {
            limit = try parseCount(v, "$PREFLIGHT_LIMIT", in: "data")
        }
        sp.limit = limit; sp.scale = scale; sp.syntheticCount = synth
        let t0 = monotonicSeconds()
        // ^C abandons a download or a long load, and a load that finishes after a ^C is dropped: the data loaded
        // before stay (the flag stays set, so a script stops here).
        LoadCancellation.requested = { Interrupt.requested }
        let console = s.console
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
        let interruptedLoad = "data: interrupted; " + (s.data.map { "the data loaded before (\($0.spec.command)) are kept" } ?? "no data loaded")
        var csv = CSVOptions(label: sp.labelColumn, header: sp.noHeader != true, dropMissing: sp.dropMissing == true)
        csv.delimiter = sp.delimiter.flatMap { $0.utf8.first }
        let fileOptions = FileOptions(csv: csv, x: sp.xKey, y: sp.yKey, xTest: sp.xTestKey, yTest: sp.yTestKey, labelsPath: sp.labelsPath)
        var ds: Dataset
        do {
            ds = try DatasetLoader.load(sp.name, dataDir: s.options.dataDir, cacheDir: s.options.cacheDir,
                                        syntheticCount: synth, seed: s.config.seed, allowDownload: s.options.allowDownload,
                                        progress: progress, options: fileOptions, cancel: { Interrupt.requested })
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
        // No test split in the files: draw one, per class, from the seed.
        if ds.test.count == 0 {
            sp.splitSeed = s.config.seed
            Tabular.split(&ds, fraction: sp.testFraction ?? 0.2, seed: s.config.seed)
        } else if sp.testFraction != nil {
            throw CommandError("data: --test applies to data without a test split; \(sp.name) has one (\(ds.test.count) test samples)")
        }
        if let l = limit { ds = ds.limited(to: l) }
        guard ds.train.count > 0 else { throw CommandError("data: \(sp.name) has no training samples") }
        // Statistics of the training split: for scaling, and for the checks on columns of non-image data.
        var stats: FeatureStats? = nil
        var range: ClosedRange<Float>? = nil
        if !ds.isImage || ds.isFloat || scale == .standard {
            let s = FeatureStats(ds.train, features: ds.features)
            range = Tabular.scale(&ds, mode: scale, stats: s)
            stats = s
        }
        sp.classNames = ds.classNames
        let loaded = LoadedData(spec: sp, dataset: ds, rawStats: stats, inputRange: range)
        if Interrupt.requested { throw CommandInterrupted(interruptedLoad) }   // ^C while the samples were converted
        s.data = loaded
        s.config.data = sp
        let secs = monotonicSeconds() - t0
        describeData(s, loaded, seconds: secs)
    }

    static func describeData(_ s: Session, _ d: LoadedData, seconds: Double?) {
        let ds = d.dataset
        let loadedIn = seconds.map { ", loaded in \(fmt($0 * 1000, 0)) ms" } ?? ""
        if ds.isImage {
            s.console.info("\(s.console.style(d.spec.name, .bold)): \(ds.train.count) train, \(ds.test.count) test, \(ds.rows)x\(ds.cols) (\(ds.features) features), \(ds.classes) classes" + loadedIn)
        } else {
            s.console.info("\(s.console.style(d.spec.name, .bold)): \(ds.train.count) train, \(ds.test.count) test, \(ds.features) features, \(ds.classes) classes" + loadedIn)
        }
        if let names = ds.classNames {
            let shown = names.prefix(20).enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: " ")
            s.console.info("  classes (text labels, in sorted order): \(shown)\(names.count > 20 ? " … (\(names.count) in all)" : "")")
        }
        if let f = ds.splitFraction {
            s.console.info("  test split: \(num(f * 100))% of each class, drawn with seed \(d.spec.splitSeed ?? s.config.seed) (the data have no test split of their own)")
        }
        let range = "[\(num(d.inputMin)), \(num(d.inputMax))]"
        if !ds.isFloat {
            // Bytes (pictures, or uint8 arrays): unit scaling divides by 255.
            s.console.info("  \(d.unitName) \(d.pixelRange.lowerBound)-\(d.pixelRange.upperBound), " + (d.spec.scale == .unit ? "scaled to \(range)" : "not scaled (--scale none): inputs up to \(num(d.inputMax))"))
        } else {
            let raw = d.rawStats.map { s in "\(d.unitName) \(num(s.min.min() ?? 0)) to \(num(s.max.max() ?? 0)), " } ?? ""
            switch d.spec.scale {
            case .unit: s.console.info("  \(raw)each scaled to [0,1] by its training min and max: inputs in \(range)")
            case .standard: s.console.info("  \(raw)standardised by the training mean and std of each: inputs in \(range)")
            case .none: s.console.info("  \(raw)not scaled (--scale none): inputs in \(range)")
            }
        }
        let counts = d.trainCounts
        let n = Double(max(ds.train.count, 1))
        let lo = counts.min() ?? 0, hi = counts.max() ?? 0
        let imbalance = lo > 0 && Double(hi) / Double(lo) > 3 ? "  (imbalanced: largest class \(hi / max(lo, 1))x the smallest)" : ""
        if counts.count <= 20 {
            let shares = counts.enumerated().map { "\($0.offset):\(fmt(Double($0.element) / n * 100, 1))%" }
            s.console.info("  class balance (train): " + shares.joined(separator: " ") + imbalance)
        } else {
            s.console.info("  class balance (train): \(counts.count) classes, \(lo) to \(hi) samples each" + imbalance)
        }
        s.console.info("  from \(ds.source)")
        for note in ds.notes { s.console.warning("\(d.spec.name): \(note)") }
        if !ds.isImage, let stats = d.rawStats { warnAboutColumns(s, d, stats) }
    }

    /// Constant features, and (unscaled) features whose spreads differ by more than 1000 times.
    private static func warnAboutColumns(_ s: Session, _ d: LoadedData, _ stats: FeatureStats) {
        let ds = d.dataset
        let constant = stats.constant
        if !constant.isEmpty {
            let list = constant.prefix(8).map { "\(ds.featureName($0)) = \(num(stats.min[$0]))" }.joined(separator: ", ")
            s.console.warning("\(d.spec.name): \(constant.count) constant feature\(constant.count == 1 ? "" : "s") (one value in every training sample, no information): column\(constant.count == 1 ? "" : "s") \(list)\(constant.count > 8 ? ", …" : "")")
        }
        guard d.spec.scale == .none else { return }
        let varying = stats.std.indices.filter { stats.std[$0] > 0 }
        guard let wide = varying.max(by: { stats.std[$0] < stats.std[$1] }), let narrow = varying.min(by: { stats.std[$0] < stats.std[$1] }) else { return }
        let ratio = stats.std[wide] / stats.std[narrow]
        if ratio > 1000 {
            s.console.warning("\(d.spec.name): the features' scales differ by \(num(ratio))x (std of column \(ds.featureName(wide)): \(num(stats.std[wide])); of column \(ds.featureName(narrow)): \(num(stats.std[narrow]))): try --scale standard")
        }
    }
}
