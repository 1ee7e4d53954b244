import Foundation
import Dispatch

/// Places searched for `data mnist` / `data fashion` besides the data and cache folders, and where to download
/// from. `standard` is what the program uses; tests substitute their own.
public struct DataSearchPaths: Sendable {
    /// Keras's dataset cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`), or nil to skip it.
    public var kerasDatasets: String?
    /// System folders holding Fashion-MNIST's four .gz files (Debian's dataset-fashion-mnist).
    public var systemFashion: [String]
    public var mnist: RemoteDataset
    public var fashion: RemoteDataset
    /// Seconds without data before a download is abandoned.
    public var downloadTimeout: Double

    public init(kerasDatasets: String?, systemFashion: [String], mnist: RemoteDataset = .mnist, fashion: RemoteDataset = .fashion,
                downloadTimeout: Double = 30) {
        self.kerasDatasets = kerasDatasets
        self.systemFashion = systemFashion
        self.mnist = mnist
        self.fashion = fashion
        self.downloadTimeout = downloadTimeout
    }

    public static var standard: DataSearchPaths {
        let env = ProcessInfo.processInfo.environment
        var keras: String? = nil
        if let k = env["KERAS_HOME"], !k.isEmpty {
            keras = (k as NSString).appendingPathComponent("datasets")
        } else if let home = DatasetLoader.homeDirectory() {
            keras = (home as NSString).appendingPathComponent(".keras/datasets")
        }
        return DataSearchPaths(kerasDatasets: keras, systemFashion: ["/usr/share/datasets/fashion-mnist"])
    }
}

public enum DatasetLoader {
    /// The four IDX files of an MNIST-style folder: train images, train labels, test images, test labels.
    public static let idxNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    /// Resolves and loads. `spec` is "mnist", "fashion" (or "fashion-mnist"), "synthetic" (optionally "synthetic N"),
    /// or a path (folder with the four IDX files, gz or raw, or an .npz file).
    /// `dataDir` is the --data-dir flag or $PREFLIGHT_DATA (the caller passes whichever is set, flag first).
    /// `syntheticCount` for "synthetic [N]" (default 2000 training samples; the test set has max(100, N/5)),
    /// `seed` for synthetic generation.
    /// `progress` gets (bytesDone, bytesTotal?) during downloads, on the calling thread; the caller draws the bar.
    public static func load(_ spec: String, dataDir: String?, cacheDir: String, syntheticCount: Int?, seed: UInt64,
                            allowDownload: Bool, progress: ((Int, Int?) -> Void)?, options: FileOptions = .none,
                            cancel: (() -> Bool)? = nil) throws -> Dataset {
        try load(spec, dataDir: dataDir, cacheDir: cacheDir, syntheticCount: syntheticCount, seed: seed,
                 allowDownload: allowDownload, progress: progress, searchPaths: .standard, options: options, cancel: cancel)
    }

    /// As `load(_:dataDir:cacheDir:syntheticCount:seed:allowDownload:progress:)`, with the other places and the
    /// mirrors given explicitly.
    public static func load(_ spec: String, dataDir: String?, cacheDir: String, syntheticCount: Int?, seed: UInt64,
                            allowDownload: Bool, progress: ((Int, Int?) -> Void)?, searchPaths: DataSearchPaths,
                            options: FileOptions = .none, cancel: (() -> Bool)? = nil) throws -> Dataset {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        let words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else {
            throw DataError("data: which dataset? mnist, fashion, synthetic [N], or a PATH to a folder of IDX files or an .npz")
        }
        switch first.lowercased() {
        case "synthetic":
            var n = syntheticCount
            if n == nil, words.count > 1 {
                guard let v = Int(words[1]) else { throw DataError("synthetic: '\(words[1])' is not a sample count") }
                n = v
            }
            return try Synthetic.make(count: n ?? Synthetic.defaultCount, seed: seed)
        case "mnist" where words.count == 1:
            return try resolveNamed(searchPaths.mnist, folderNames: ["mnist", "MNIST"], dataDir: dataDir, cacheDir: cacheDir,
                                    paths: searchPaths, allowDownload: allowDownload, progress: progress)
        case "fashion" where words.count == 1, "fashion-mnist" where words.count == 1, "fashion_mnist" where words.count == 1:
            return try resolveNamed(searchPaths.fashion, folderNames: ["fashion", "fashion-mnist", "fashion_mnist", "FashionMNIST"],
                                    dataDir: dataDir, cacheDir: cacheDir, paths: searchPaths, allowDownload: allowDownload,
                                    progress: progress)
        default:
            return try loadPath(trimmed, options: options, cancel: cancel)
        }
    }

    /// Loads a dataset given by path: a folder holding the four IDX files (raw or .gz), one of those files (its
    /// folder is used), an .npz archive, an .npy of features (with `options.labelsPath`, the .npy of labels) or a
    /// CSV table. `name` is the path as given; integer labels give classes = max label + 1. CSV files and .npy
    /// pairs (and .npz archives without test arrays) come back with an empty test split for the caller to draw.
    public static func loadPath(_ given: String, options: FileOptions = .none, cancel: (() -> Bool)? = nil) throws -> Dataset {
        let path = expandTilde(given)
        var dataset: Dataset
        let lower = path.lowercased()
        let ext = (lower as NSString).pathExtension
        let forms = "give mnist, fashion, synthetic [N], a folder with the four IDX files, an .npz, X.npy Y.npy, or a .csv table"
        switch FileBytes.kind(path) {
        case .missing:
            throw DataError(path: given, "no such file or folder (\(forms))")
        case .directory:
            if ext == "csv" || ext == "npy" || ext == "npz" {
                throw DataError(path: given, "is a directory, expected a .\(ext) file")
            }
            dataset = try loadFolder(path, name: given, classes: nil)
        case .other:
            throw DataError(path: given, "is not a regular file or folder")
        case .file:
            let base = (path as NSString).lastPathComponent
            let magic = leadingBytes(path, 6)
            if options.labelsPath != nil && ext != "npy" && !magic.starts(with: NPY.magic) {
                throw DataError(path: given, "two files are read as X.npy Y.npy: the first should be an .npy of features")
            }
            if magic.starts(with: [0x50, 0x4B, 0x03, 0x04]) || magic.starts(with: [0x50, 0x4B, 0x05, 0x06]) || ext == "npz" {
                dataset = try NPZ.read(path: path, x: options.x, y: options.y, xTest: options.xTest, yTest: options.yTest, cancel: cancel)
            } else if ext == "npy" || magic.starts(with: NPY.magic) {
                guard let labels = options.labelsPath else {
                    throw DataError(path: given, "an .npy holds one array: give the features and the labels, `data X.npy Y.npy`")
                }
                dataset = try NPZ.readPair(x: path, y: expandTilde(labels), cancel: cancel)
            } else if idxNames.contains(where: { matchesIDXName(base, $0) }) {
                dataset = try loadFolder((path as NSString).deletingLastPathComponent, name: given, classes: nil)
            } else if ["csv", "tsv", "tab", "txt", "data"].contains(ext) || (!magic.isEmpty && !magic.contains(0)) || FileBytes.size(path) == 0 {
                dataset = try CSV.read(path: path, options: options.csv, cancel: cancel)
            } else {
                throw DataError(path: given, "is a binary file but not an .npz or .npy array; \(forms)")
            }
        }
        dataset.name = given
        return dataset
    }

    /// The first `n` bytes of a file (fewer if it is shorter; none if it cannot be read).
    static func leadingBytes(_ path: String, _ n: Int) -> [UInt8] {
        guard let h = try? FileBytes.Handle(path: path) else { return [] }
        var b = [UInt8](repeating: 0, count: n)
        let got = (try? b.withUnsafeMutableBytes { try h.read(into: $0.baseAddress!, count: n) }) ?? 0
        return Array(b.prefix(got))
    }

    /// Loads the four IDX files of `folder`. With `classes`, every label must be below it (and the dataset has that
    /// many classes); without, classes = max label + 1.
    public static func loadFolder(_ folder: String, name: String, classes fixedClasses: Int?) throws -> Dataset {
        switch FileBytes.kind(folder) {
        case .directory: break
        case .missing: throw DataError(path: folder, "no such folder")
        default: throw DataError(path: folder, "is not a folder")
        }
        let found = idxNames.map { findIDX(in: folder, base: $0) }
        let missing = zip(idxNames, found).filter { $0.1 == nil }.map { $0.0 + "[.gz]" }
        if !missing.isEmpty {
            throw DataError(path: folder, "missing \(missing.joined(separator: ", ")) (a dataset folder holds \(idxNames.joined(separator: ", ")), each raw or .gz)")
        }
        let files = found.map { $0! }
        let results = ResultBox(count: 4)
        // The training images dominate; the other three are read alongside on the second core.
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            do { results.set(i, .success(try IDX.read(path: files[i]))) } catch { results.set(i, .failure(error)) }
        }
        var parts: [(dims: [Int], bytes: [UInt8])] = []
        for i in 0..<4 { parts.append(try results.get(i)) }
        let (trainImages, trainLabels, testImages, testLabels) = (parts[0], parts[1], parts[2], parts[3])
        for i in [0, 2] where parts[i].dims.count != 3 {
            throw DataError(path: files[i], "expected images (3 dimensions: count x rows x cols) but the IDX header declares \(parts[i].dims.count) dimension\(parts[i].dims.count == 1 ? "" : "s") (\(IDX.describe(parts[i].dims)))")
        }
        for i in [1, 3] where parts[i].dims.count != 1 {
            throw DataError(path: files[i], "expected labels (1 dimension) but the IDX header declares \(parts[i].dims.count) dimensions (\(IDX.describe(parts[i].dims)))")
        }
        let rows = trainImages.dims[1], cols = trainImages.dims[2]
        guard rows > 0, cols > 0 else { throw DataError(path: files[0], "images are \(rows)x\(cols)") }
        guard testImages.dims[1] == rows, testImages.dims[2] == cols else {
            throw DataError(path: files[2], "test images are \(testImages.dims[1])x\(testImages.dims[2]) but the training images (\(files[0])) are \(rows)x\(cols)")
        }
        guard trainLabels.dims[0] == trainImages.dims[0] else {
            throw DataError(path: files[1], "\(trainLabels.dims[0]) labels but \(files[0]) has \(trainImages.dims[0]) images")
        }
        guard testLabels.dims[0] == testImages.dims[0] else {
            throw DataError(path: files[3], "\(testLabels.dims[0]) labels but \(files[2]) has \(testImages.dims[0]) images")
        }
        guard trainImages.dims[0] > 0 else { throw DataError(path: files[0], "holds 0 images") }
        guard testImages.dims[0] > 0 else { throw DataError(path: files[2], "holds 0 images") }
        let classes = try checkLabels([(trainLabels.bytes, files[1]), (testLabels.bytes, files[3])],
                                      fixedClasses: fixedClasses, datasetName: name)
        return Dataset(name: name, source: folder, rows: rows, cols: cols, classes: classes,
                       train: DataSplit(images: trainImages.bytes, labels: trainLabels.bytes, count: trainImages.dims[0]),
                       test: DataSplit(images: testImages.bytes, labels: testLabels.bytes, count: testImages.dims[0]))
    }

    /// Checks label ranges; returns the number of classes.
    static func checkLabels(_ sets: [([UInt8], String)], fixedClasses: Int?, datasetName: String?) throws -> Int {
        var maxLabel = 0
        for (labels, path) in sets {
            let m = Int(labels.max() ?? 0)
            if let fixed = fixedClasses, m >= fixed {
                let index = labels.firstIndex(where: { Int($0) >= fixed })!
                let who = datasetName.map { "\($0) has" } ?? "the dataset has"
                throw DataError(path: path, "label \(labels[index]) at index \(index) is out of range: \(who) \(fixed) classes (0-\(fixed - 1))")
            }
            maxLabel = max(maxLabel, m)
        }
        return fixedClasses ?? (maxLabel + 1)
    }

    // MARK: - mnist / fashion

    private static func resolveNamed(_ remote: RemoteDataset, folderNames: [String], dataDir: String?, cacheDir: String,
                                     paths: DataSearchPaths, allowDownload: Bool,
                                     progress: ((Int, Int?) -> Void)?) throws -> Dataset {
        let name = remote.name
        let isMNIST = name == "mnist"
        var looked: [String] = []
        func named(_ d: Dataset) -> Dataset { var d = d; d.name = name; return d }

        // 1. --data-dir / $PREFLIGHT_DATA: DIR/<name>/, then DIR itself.
        if let given = dataDir, !given.isEmpty {
            let dir = expandTilde(given)
            var seen = Set<String>()
            for sub in folderNames {
                let folder = join(dir, sub)
                guard FileBytes.isDirectory(folder) else {
                    if sub == folderNames[0] { looked.append(folder + "/") }
                    continue
                }
                // Case-insensitive file systems may answer for several spellings: look once.
                let key = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder)) ?? folder
                if seen.contains(key) { continue }
                seen.insert(key)
                if sub != folderNames[0] { looked.append(folder + "/") }
                if holdsAnyIDX(folder) { return named(try loadFolder(folder, name: name, classes: 10)) }
            }
            if isMNIST {
                let npz = join(dir, "mnist.npz")
                looked.append(npz)
                if FileBytes.kind(npz) != .missing { return named(try NPZ.readMNIST(path: npz, classes: 10)) }
            }
            looked.append(dir + "/")
            if holdsAnyIDX(dir) && !holdsOtherDataset(dir, wanted: name) {
                return named(try loadFolder(dir, name: name, classes: 10))
            }
        }

        // 2. The cache (only ever holds verified downloads).
        let cache = join(expandTilde(cacheDir), name)
        looked.append(cache + "/")
        if idxNames.allSatisfy({ findIDX(in: cache, base: $0) != nil }) {
            return named(try loadFolder(cache, name: name, classes: 10))
        }

        // 3. Keras's cache.
        if let keras = paths.kerasDatasets {
            if isMNIST {
                let npz = join(keras, "mnist.npz")
                looked.append(npz)
                if FileBytes.kind(npz) != .missing { return named(try NPZ.readMNIST(path: npz, classes: 10)) }
            } else {
                let folder = join(keras, "fashion-mnist")
                looked.append(folder + "/")
                if holdsAnyIDX(folder) { return named(try loadFolder(folder, name: name, classes: 10)) }
            }
        }

        // 4. Debian's dataset-fashion-mnist.
        if !isMNIST {
            for folder in paths.systemFashion {
                looked.append(folder + "/")
                if holdsAnyIDX(folder) { return named(try loadFolder(folder, name: name, classes: 10)) }
            }
        }

        // 5. Download into the cache.
        let howTo = "supply the files with `data PATH` (a folder holding \(idxNames.joined(separator: ", ")), gz or raw\(isMNIST ? ", or an mnist.npz" : "")), or put them in DIR/\(name)/ and pass --data-dir DIR or set PREFLIGHT_DATA=DIR"
        let place = "\(name): not found; looked in \(looked.joined(separator: ", "))"
        guard allowDownload else {
            throw DataError("\(place); downloading is off; \(howTo)")
        }
        do {
            try download(remote, into: cache, timeout: paths.downloadTimeout, progress: progress)
        } catch let e as DataError {
            throw DataError("\(place); the download failed: \(e.description); \(howTo)")
        }
        return named(try loadFolder(cache, name: name, classes: 10))
    }

    /// Downloads whichever of the dataset's files `folder` lacks (files already there are verified first; a file
    /// that fails is deleted and fetched again).
    public static func download(_ remote: RemoteDataset, into folder: String, timeout: Double = 30,
                                progress: ((Int, Int?) -> Void)?) throws {
        try Downloader.makeDirectory(folder)
        var needed: [RemoteFile] = []
        for file in remote.files {
            let path = join(folder, file.name)
            if FileBytes.isFile(path) {
                if (try? SHA256.hexOfFile(path: path)) == file.sha256 { continue }
                unlink(path)
            }
            needed.append(file)
        }
        let total = needed.reduce(0) { $0 + $1.size }
        var done = 0
        for file in needed {
            let before = done
            try Downloader.fetch(fileName: file.name, mirrors: remote.mirrors, sha256: file.sha256, into: folder, timeout: timeout) { got, _ in
                progress?(before + got, total)
            }
            done += file.size
        }
    }

    // MARK: - helpers

    static func homeDirectory() -> String? {
        if let h = ProcessInfo.processInfo.environment["HOME"], !h.isEmpty { return h }
        let h = NSHomeDirectory()
        return h.isEmpty ? nil : h
    }

    static func expandTilde(_ p: String) -> String {
        if p == "~" { return homeDirectory() ?? p }
        if p.hasPrefix("~/"), let h = homeDirectory() { return join(h, String(p.dropFirst(2))) }
        return p
    }

    static func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }

    private static func dotted(_ base: String) -> String { base.replacingOccurrences(of: "-idx", with: ".idx") }

    private static func matchesIDXName(_ file: String, _ base: String) -> Bool {
        [base, base + ".gz", dotted(base), dotted(base) + ".gz"].contains(file)
    }

    /// The path of one of the four IDX files in `folder`: raw preferred over .gz, then the dotted spelling.
    static func findIDX(in folder: String, base: String) -> String? {
        for candidate in [base, base + ".gz", dotted(base), dotted(base) + ".gz"] {
            let p = join(folder, candidate)
            if FileBytes.kind(p) != .missing { return p }
        }
        return nil
    }

    private static func holdsAnyIDX(_ folder: String) -> Bool {
        FileBytes.isDirectory(folder) && idxNames.contains { findIDX(in: folder, base: $0) != nil }
    }

    /// When the data folder itself holds IDX files, a known compressed size tells MNIST from Fashion-MNIST.
    private static func holdsOtherDataset(_ folder: String, wanted: String) -> Bool {
        guard let images = findIDX(in: folder, base: idxNames[0]), images.hasSuffix(".gz"), let size = FileBytes.size(images) else {
            return false
        }
        let mnistSizes: Set<Int> = [RemoteDataset.mnist.files[0].size]
        let fashionSizes: Set<Int> = [RemoteDataset.fashion.files[0].size, 26_421_856]   // original; Debian's re-compressed
        return wanted == "mnist" ? fashionSizes.contains(size) : mnistSizes.contains(size)
    }
}

/// Results of the parallel reads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<(dims: [Int], bytes: [UInt8]), Error>?]

    init(count: Int) { items = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ r: Result<(dims: [Int], bytes: [UInt8]), Error>) {
        lock.lock(); items[i] = r; lock.unlock()
    }

    func get(_ i: Int) throws -> (dims: [Int], bytes: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        return try items[i]!.get()
    }
}
