import Foundation
import PreflightEngine
import PreflightData
import PreflightChecks

// `save PATH` / `load PATH`: the whole session in one npz-compatible ZIP (stored entries):
//   session.json                      format "preflight-session", version 1, configuration, runs, records
//   RUN/W1.npy, RUN/b1.npy, …         each layer's weights (fan_in, fan_out) and bias (fan_out,), float32 C order
//   RUN/optimizer/m_W1.npy, …/v_b1    the optimiser's moments in the same shapes (Adam m, v; SGD velocity in m; RMSprop v)
// An external run (imported records) has no arrays: session.json holds its record as the record file would
// (format version 2; version 1 files, without external runs, stay readable and are still written when there are none).
//   RUN/gamma1.npy, RUN/beta1.npy, RUN/moving_mean1.npy, RUN/moving_variance1.npy, RUN/optimizer/m_gamma1.npy, …
//                                     with batchnorm on, each hidden layer's γ, β, running statistics and their moments
// (format version 3: a Preflight that does not know batchnorm must refuse the file rather than drop it).

/// The archive's description of the session (session.json).
struct SavedSession: Codable {
    static let formatName = "preflight-session"
    /// Version 2 adds external runs, version 3 batch normalisation; a session is written with the lowest version
    /// that holds it (1 without either), so that older Preflights read what they can and refuse what they cannot.
    static let currentVersion = 3

    var format: String
    var version: Int
    var config: RunConfig
    var data: SavedData?
    var strict: Bool
    var threads: Int
    /// Check settings that differ from the defaults, in the words of `set`.
    var thresholds: [SavedSetting]
    /// The selected run's name.
    var current: String?
    var runs: [SavedRun]
}

struct SavedSetting: Codable { var key: String; var value: String }

/// The data the session had loaded: how to load them again, and a fingerprint to recognise them.
struct SavedData: Codable {
    var spec: DataSpec
    var command: String
    var trainCount: Int
    var testCount: Int
    /// CRC-32 of the train images, train labels, test images, test labels (in that order), as 8 hex digits.
    var crc32: String
}

struct SavedFinding: Codable {
    var rule: String, phase: String
    var value: Double?, threshold: Double?
    var verdict: Verdict
    var measured: String, hint: String, reason: String
}

struct SavedOptimizerState: Codable {
    /// "sgd", "adam" or "rmsprop" (the run's configuration holds the settings).
    var kind: String
    var steps: Int
    /// The epochs the learning-rate schedule is planned over (absent in older files and when not planned yet).
    var plannedEpochs: Int?
}

struct SavedRun: Codable {
    var name: String
    /// Folder of this run's arrays in the archive ("run1" → run1/W1.npy).
    var folder: String
    var config: RunConfig
    var epochs: [EpochRecord]
    var firstBatch: FirstBatchRecord?
    /// The first batch as a `check` before training probed it (absent in older files).
    var probedFirstBatch: FirstBatchRecord?
    var nonFinite: NonFiniteEvent?
    var findings: [SavedFinding]
    /// Epochs recorded when the findings were made (absent in older files: taken as current).
    var findingsEpochs: Int?
    /// The shuffling generator's four state words, as 16 hex digits each.
    var shuffleState: [String]
    var optimizer: SavedOptimizerState
    /// The array entries this run needs.
    var arrays: [String]
    /// The engine's thread count for this run (results are deterministic per thread count).
    var threads: Int?
    /// The data the run was built on (absent in files written before it was recorded).
    var data: RunData?
    /// An external run's record (no arrays, no optimiser, no shuffle state).
    var external: SavedExternal?
}

struct SavedExternal: Codable {
    /// The file it was imported from.
    var file: String
    /// A record file's text holding just this run (read back by the record reader).
    var record: String
}

extension Session {
    // MARK: save

    /// The archive's entries for the current session.
    func sessionArchiveEntries() throws -> [(name: String, data: [UInt8])] {
        var entries: [(name: String, data: [UInt8])] = []
        var savedRuns: [SavedRun] = []
        var folders = Set<String>()
        for (i, r) in runs.enumerated() {
            let savedFindings = r.findings.map { SavedFinding(rule: $0.rule, phase: $0.phase, value: $0.value, threshold: $0.threshold,
                                                              verdict: $0.verdict, measured: $0.measured, hint: $0.hint, reason: $0.reason) }
            if let rec = r.record {
                let doc = JSON.object([("version", .int(Session.exportVersion)), ("runs", .array([rec.json(name: r.name, checks: .array([]))]))])
                savedRuns.append(SavedRun(name: r.name, folder: "", config: r.config, epochs: r.epochs, firstBatch: r.firstBatch,
                                          nonFinite: r.nonFinite, findings: savedFindings, findingsEpochs: r.findingsEpochs, shuffleState: [],
                                          optimizer: SavedOptimizerState(kind: "", steps: 0, plannedEpochs: nil), arrays: [], threads: nil,
                                          external: SavedExternal(file: rec.file, record: doc.serialized(pretty: false))))
                continue
            }
            var folder = r.name
            if folder.range(of: #"^[A-Za-z0-9_.+-]{1,64}$"#, options: .regularExpression) == nil || folder == "session.json"
                || folder.hasPrefix(".") || folders.contains(folder) {
                folder = "run-\(i + 1)"
            }
            folders.insert(folder)
            let net = r.network, opt = r.trainer.optimizer
            let params = net.parameterArray, m = opt.mArray, v = opt.vArray
            var arrays: [String] = []
            func add(_ name: String, _ source: [Float], _ range: Range<Int>, _ shape: [Int]) {
                let path = "\(folder)/\(name).npy"
                entries.append((path, NPY.encode(Array(source[range]), shape: shape)))
                arrays.append(path)
            }
            for l in 0..<net.layerCount {
                let (wr, br) = net.ranges[l]
                add("W\(l + 1)", params, wr, [net.sizes[l], net.sizes[l + 1]])
                add("b\(l + 1)", params, br, [net.sizes[l + 1]])
            }
            for (tag, state) in [("m", m), ("v", v)] {
                for l in 0..<net.layerCount {
                    let (wr, br) = net.ranges[l]
                    add("optimizer/\(tag)_W\(l + 1)", state, wr, [net.sizes[l], net.sizes[l + 1]])
                    add("optimizer/\(tag)_b\(l + 1)", state, br, [net.sizes[l + 1]])
                }
            }
            // Batch normalisation: γ, β (and their optimiser state) and the running statistics of each hidden layer.
            for (h, nr) in net.normRanges.enumerated() {
                let n = [net.sizes[h + 1]]
                add("gamma\(h + 1)", params, nr.gamma, n); add("beta\(h + 1)", params, nr.beta, n)
                add("moving_mean\(h + 1)", Array(net.movingMean(h)), 0..<n[0], n)
                add("moving_variance\(h + 1)", Array(net.movingVariance(h)), 0..<n[0], n)
                for (tag, state) in [("m", m), ("v", v)] {
                    add("optimizer/\(tag)_gamma\(h + 1)", state, nr.gamma, n); add("optimizer/\(tag)_beta\(h + 1)", state, nr.beta, n)
                }
            }
            let rng = r.trainer.shuffleRNG
            savedRuns.append(SavedRun(
                name: r.name, folder: folder, config: r.config, epochs: r.trainer.epochs, firstBatch: r.trainer.firstBatch,
                probedFirstBatch: r.probedFirstBatch, nonFinite: r.trainer.nonFinite,
                findings: savedFindings,
                findingsEpochs: r.findingsEpochs,
                shuffleState: [rng.s0, rng.s1, rng.s2, rng.s3].map { hex64($0) },
                optimizer: SavedOptimizerState(kind: opt.kind.name, steps: opt.steps, plannedEpochs: opt.plannedEpochs > 0 ? opt.plannedEpochs : nil),
                arrays: arrays, threads: r.trainer.threads, data: r.data))
        }
        let saved = SavedSession(
            format: SavedSession.formatName,
            version: runs.contains { !$0.isExternal && $0.config.batchNormValue } || config.batchNormValue ? 3 : runs.contains(where: \.isExternal) ? 2 : 1,
            config: config,
            data: data.map { d in
                SavedData(spec: d.spec, command: d.spec.command, trainCount: d.dataset.train.count, testCount: d.dataset.test.count,
                          crc32: String(format: "%08x", dataFingerprint(d.dataset)))
            },
            strict: strict, threads: threads,
            thresholds: thresholds.changed.map { SavedSetting(key: $0.key, value: $0.value) },
            current: currentRun?.name, runs: savedRuns)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json: Data
        do { json = try enc.encode(saved) } catch { throw CommandError("save: cannot describe the session: \(error)") }
        return [("session.json", Array(json))] + entries
    }

    func saveSession(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try NPZ.archive(sessionArchiveEntries()) } catch let e as DataError { throw CommandError("save: \(path): \(e)") }
        try writeOutput(path, bytes)
        for r in runs where r.isExternal {
            console.info("run \(r.name) is external: its record is saved, no weights (it has none here)")
        }
        let params = runs.filter { !$0.isExternal }.reduce(0) { $0 + $1.network.paramCount }
        console.info("saved the session to \(path): \(runs.count) run\(runs.count == 1 ? "" : "s"), \(params) weights, \(formatBytes(Double(bytes.count)))")
    }

    // MARK: load

    /// Everything read and checked from a save file, ready to replace the session.
    struct LoadedSession {
        var saved: SavedSession
        var thresholds: Thresholds
        var runs: [Run]
    }

    /// Reads and validates a save file completely; touches nothing.
    func readSessionFile(_ path: String) throws -> LoadedSession {
        func fail(_ problem: String) -> CommandError { CommandError("load: \(path): \(problem)") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw fail("no such file") }
        guard !isDir.boolValue else { throw fail("is a directory, not a saved session") }
        let entries: [(name: String, data: [UInt8])]
        do { entries = try NPZ.entries(path: path, expected: "a saved session") } catch let e as DataError {
            throw CommandError("load: \(e)")
        }
        var byName: [String: [UInt8]] = [:]
        for e in entries { byName[e.name] = e.data }
        guard let jsonBytes = byName["session.json"] else { throw fail("not a saved session: it has no session.json") }

        struct Header: Decodable { var format: String?; var version: Int? }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let header = try? dec.decode(Header.self, from: Data(jsonBytes)) else { throw fail("session.json is not valid JSON") }
        guard header.format == SavedSession.formatName else {
            throw fail("not a saved session: session.json has format \(header.format.map { "`\($0.prefix(40))`" } ?? "missing")")
        }
        guard let version = header.version else { throw fail("session.json has no version") }
        guard version <= SavedSession.currentVersion else {
            throw fail("saved by a newer Preflight (session format version \(version); this version reads up to \(SavedSession.currentVersion))")
        }
        guard version >= 1 else { throw fail("unknown session format version \(version)") }
        let saved: SavedSession
        do { saved = try dec.decode(SavedSession.self, from: Data(jsonBytes)) } catch {
            throw fail("session.json does not describe a session: \(decodingProblem(error))")
        }

        var th = Thresholds.defaults
        for s in saved.thresholds {
            do { try th.set(s.key, s.value) } catch { throw fail("check setting \(s.key) = \(s.value): \(error)") }
        }
        if let c = saved.config.layers { try validateLayers(c, fail) }
        if let p = saved.config.remedyProblem { throw fail("the configuration: \(p)") }

        var runs: [Run] = []
        var names = Set<String>()
        for sr in saved.runs {
            guard !sr.name.isEmpty, !names.contains(sr.name) else { throw fail("run name `\(sr.name.prefix(40))` is empty or repeated") }
            names.insert(sr.name)
            if let ext = sr.external {
                let recs: [RecordedRun]
                do { recs = try RecordReader.parse(Array(ext.record.utf8), file: "\(path) (run \(sr.name))") } catch let e as RecordError {
                    throw CommandError("load: \(e)")
                }
                guard recs.count == 1 else { throw fail("run \(sr.name): its record holds \(recs.count) runs") }
                var rec = recs[0]
                rec.file = ext.file
                let run = Run(name: sr.name, record: rec)
                run.findings = sr.findings.map { Finding(rule: $0.rule, phase: $0.phase, value: $0.value, threshold: $0.threshold,
                                                         verdict: $0.verdict, measured: $0.measured, hint: $0.hint, reason: $0.reason) }
                run.findingsEpochs = sr.findingsEpochs ?? run.epochs.count
                runs.append(run)
                continue
            }
            guard let sizes = sr.config.layers else { throw fail("run \(sr.name) has no layer sizes") }
            if let p = sr.config.remedyProblem { throw fail("run \(sr.name): \(p)") }
            try validateLayers(sizes, fail)
            do { try checkMemory(layers: sizes, batch: sr.config.batch) } catch let e as CommandError { throw fail("run \(sr.name): \(e.message)") }
            guard sr.optimizer.kind == sr.config.optimizer.name, sr.optimizer.steps >= 0 else {
                throw fail("run \(sr.name): optimiser state (\(sr.optimizer.kind)) does not match its configuration (\(sr.config.optimizer.name))")
            }
            guard sr.shuffleState.count == 4 else { throw fail("run \(sr.name): the shuffle generator state is incomplete") }
            var words: [UInt64] = []
            for h in sr.shuffleState {
                guard let w = UInt64(h, radix: 16) else { throw fail("run \(sr.name): bad shuffle generator state `\(h.prefix(20))`") }
                words.append(w)
            }
            let hiddenCount = sizes.count - 2
            for e in sr.epochs where e.hidden.count != hiddenCount || e.layers.count != sizes.count - 1 {
                throw fail("run \(sr.name): epoch \(e.epoch)'s records do not match its \(plural(sizes.count - 1, "layer"))")
            }
            for fb in [sr.firstBatch, sr.probedFirstBatch].compactMap({ $0 }) where fb.hidden.count != hiddenCount {
                throw fail("run \(sr.name): the first-batch records do not match its \(plural(hiddenCount, "hidden layer"))")
            }

            // Every array must be in the file, and together they must roughly hold the layers, before anything is
            // allocated: a small file must not make us reserve gigabytes for layers it does not hold. (An array of
            // the wrong shape gets its own message below.)
            var needed = 0, held = 0
            for l in 0..<(sizes.count - 1) {
                let (wCount, overflow) = sizes[l].multipliedReportingOverflow(by: sizes[l + 1])
                guard !overflow, wCount < Int.max / 64 else { throw fail("run \(sr.name): layer \(l + 1) is impossibly large") }
                for (name, count) in [("W\(l + 1)", wCount), ("b\(l + 1)", sizes[l + 1])] {
                    for prefix in ["", "optimizer/m_", "optimizer/v_"] {
                        let entry = "\(sr.folder)/\(prefix)\(name).npy"
                        guard let bytes = byName[entry] else { throw fail("entry \(entry) is missing") }
                        needed += count * 4; held += bytes.count
                    }
                }
            }
            if sr.config.batchNormValue {
                for h in 1..<max(sizes.count - 1, 1) {
                    for name in ["gamma", "beta", "moving_mean", "moving_variance", "optimizer/m_gamma", "optimizer/m_beta",
                                 "optimizer/v_gamma", "optimizer/v_beta"] {
                        let entry = "\(sr.folder)/\(name)\(h).npy"
                        guard let bytes = byName[entry] else { throw fail("entry \(entry) is missing (run \(sr.name) has batchnorm on)") }
                        needed += sizes[h] * 4; held += bytes.count
                    }
                }
            }
            guard needed <= held * 2 else {
                throw fail("run \(sr.name)'s arrays hold \(held) bytes, far too few for its layers \(sizes.map(String.init).joined(separator: "-")) (\(needed) bytes)")
            }
            let net = sr.config.makeNetwork()
            var params = [Float](repeating: 0, count: net.paramCount)
            var m = params, v = params
            func fill(_ name: String, _ target: inout [Float], _ range: Range<Int>, _ shape: [Int]) throws {
                let entry = "\(sr.folder)/\(name).npy"
                guard let bytes = byName[entry] else { throw fail("entry \(entry) is missing") }
                let a: (shape: [Int], values: [Float])
                do { a = try NPY.decodeFloats(bytes, name: entry) } catch let e as DataError { throw fail(e.description) }
                guard a.shape == shape else {
                    throw fail("entry \(entry) has shape \(a.shape), but run \(sr.name)'s layers \(sizes.map(String.init).joined(separator: "-")) need \(shape)")
                }
                target.replaceSubrange(range, with: a.values)
            }
            for l in 0..<net.layerCount {
                let (wr, br) = net.ranges[l]
                let ws = [sizes[l], sizes[l + 1]], bs = [sizes[l + 1]]
                try fill("W\(l + 1)", &params, wr, ws); try fill("b\(l + 1)", &params, br, bs)
                try fill("optimizer/m_W\(l + 1)", &m, wr, ws); try fill("optimizer/m_b\(l + 1)", &m, br, bs)
                try fill("optimizer/v_W\(l + 1)", &v, wr, ws); try fill("optimizer/v_b\(l + 1)", &v, br, bs)
            }
            var running: [Float] = []
            for (h, nr) in net.normRanges.enumerated() {
                let n = [sizes[h + 1]]
                try fill("gamma\(h + 1)", &params, nr.gamma, n); try fill("beta\(h + 1)", &params, nr.beta, n)
                try fill("optimizer/m_gamma\(h + 1)", &m, nr.gamma, n); try fill("optimizer/m_beta\(h + 1)", &m, nr.beta, n)
                try fill("optimizer/v_gamma\(h + 1)", &v, nr.gamma, n); try fill("optimizer/v_beta\(h + 1)", &v, nr.beta, n)
                var mean = [Float](repeating: 0, count: n[0]), variance = mean
                try fill("moving_mean\(h + 1)", &mean, 0..<n[0], n); try fill("moving_variance\(h + 1)", &variance, 0..<n[0], n)
                guard variance.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw fail("run \(sr.name): moving_variance\(h + 1) holds a negative or non-finite variance") }
                running += mean + variance
            }
            net.setParameters(params)
            if net.batchNorm { net.setRunningStatistics(running) }
            let trainer = Trainer(network: net, optimizer: sr.config.optimizer, seed: sr.config.seed)
            if let t = sr.threads {
                guard t >= 1, t <= 256 else { throw fail("run \(sr.name): bad thread count \(t)") }
                trainer.threads = t
            }
            trainer.optimizer.restore(steps: sr.optimizer.steps, m: m, v: v)
            sr.config.configure(trainer)
            if let p = sr.optimizer.plannedEpochs {
                guard p >= 0, p <= 100_000 else { throw fail("run \(sr.name): bad planned epoch count \(p)") }
                trainer.optimizer.plannedEpochs = p
            }
            var rng = Xoshiro(seed: 0)
            rng.s0 = words[0]; rng.s1 = words[1]; rng.s2 = words[2]; rng.s3 = words[3]
            trainer.restore(epochs: sr.epochs, firstBatch: sr.firstBatch, nonFinite: sr.nonFinite, shuffleRNG: rng)
            let run = Run(name: sr.name, config: sr.config, trainer: trainer)
            if let rd = sr.data {
                guard rd.spec == sr.config.data, rd.classes >= 1, rd.features == sizes[0], rd.inputMin <= rd.inputMax else {
                    throw fail("run \(sr.name): its data record does not match its configuration")
                }
                run.data = rd
            }
            run.findings = sr.findings.map { Finding(rule: $0.rule, phase: $0.phase, value: $0.value, threshold: $0.threshold,
                                                     verdict: $0.verdict, measured: $0.measured, hint: $0.hint, reason: $0.reason) }
            run.findingsEpochs = sr.findingsEpochs ?? sr.epochs.count
            if sr.firstBatch == nil && sr.epochs.isEmpty { run.probedFirstBatch = sr.probedFirstBatch }
            runs.append(run)
        }
        if let c = saved.current, !names.contains(c) { throw fail("the selected run \(c.prefix(40)) is not among the saved runs") }
        return LoadedSession(saved: saved, thresholds: th, runs: runs)
    }

    private func validateLayers(_ sizes: [Int], _ fail: (String) -> CommandError) throws {
        guard sizes.count >= 2, sizes.count <= 64, sizes.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else {
            throw fail("bad layer sizes \(sizes.prefix(8))")
        }
    }

    func loadSession(from path: String) throws {
        let loaded = try readSessionFile(path)
        let saved = loaded.saved

        // The data: kept if the session already holds the same ones, else loaded again in a scratch session
        // (synthetic data depend on the seed they were made with, which is found by the fingerprint).
        var newData: LoadedData? = nil
        var dataNote: String? = nil
        if let sd = saved.data {
            if let d = data, d.spec == sd.spec, String(format: "%08x", dataFingerprint(d.dataset)) == sd.crc32 {
                newData = d
            } else {
                var seeds: [UInt64] = [saved.config.seed] + saved.runs.map(\.config.seed) + [0]
                var seen = Set<UInt64>()
                seeds = seeds.filter { seen.insert($0).inserted }
                if sd.spec.name != "synthetic" { seeds = [sd.spec.splitSeed ?? saved.config.seed] }
                var lastError: String? = nil
                var mismatch: LoadedData? = nil
                for seed in seeds {
                    let scratch = Session(console: Console(out: { _ in }, err: { _ in }), options: options)
                    scratch.config.seed = seed
                    do {
                        try scratch.execute(sd.spec.command)
                    } catch {
                        lastError = (error as? CommandError)?.message ?? "\(error)"
                        break
                    }
                    guard let d = scratch.data else { continue }
                    if String(format: "%08x", dataFingerprint(d.dataset)) == sd.crc32 { newData = d; break }
                    if mismatch == nil { mismatch = d }
                }
                if newData == nil, let d = mismatch {
                    newData = d
                    dataNote = "the data loaded by `\(sd.spec.command)` differ from those the session was saved with; training will not continue exactly as before"
                } else if newData == nil {
                    dataNote = "could not load the data again with `\(sd.spec.command)`" + (lastError.map { ": \($0)" } ?? "")
                        + "; load them with `data …` before training"
                }
            }
        }

        // Everything checked: replace the session.
        config = saved.config
        data = newData
        strict = saved.strict
        threads = saved.threads
        thresholds = loaded.thresholds
        runs = loaded.runs
        // Runs saved before their data were recorded: the data loaded again are theirs when the description matches.
        if let d = newData { for r in runs where r.data == nil && r.config.data == d.spec { r.data = RunData(d) } }
        currentIndex = saved.current.flatMap { c in runs.firstIndex { $0.name == c } }
        if let note = dataNote { console.warning(note) }
        let cur = currentRun.map { ", current run \($0.name) (\(plural($0.epochs.count, "epoch")))" } ?? ""
        let dataText = newData.map { " data: \($0.spec.command)" + (dataNote == nil ? " (loaded again)" : "") + ";" } ?? ""
        console.info("loaded \(path): \(runs.count) run\(runs.count == 1 ? "" : "s")\(cur);\(dataText) \(loaded.thresholds.changed.count) changed check setting\(loaded.thresholds.changed.count == 1 ? "" : "s")")
    }
}

private func hex64(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// CRC-32 over the dataset's pixels and labels: recognises the same data without storing them.
func dataFingerprint(_ d: Dataset) -> UInt32 {
    var c: UInt32 = 0
    // Labels as bytes when they fit (as before labels could exceed 255), float features by their bit patterns.
    func labelBytes(_ l: [UInt16]) -> [UInt8] {
        l.allSatisfy { $0 < 256 } ? l.map { UInt8($0) } : l.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }
    for split in [d.train, d.test] {
        if split.isFloat {
            split.values.withUnsafeBytes { c = CRC32.checksum($0.bindMemory(to: UInt8.self), c) }
        } else {
            c = CRC32.checksum(split.images, c)
        }
        c = CRC32.checksum(labelBytes(split.labels), c)
    }
    return c
}

/// One line describing a JSON decoding error: which field, what is wrong.
private func decodingProblem(_ error: Error) -> String {
    func path(_ p: [CodingKey]) -> String {
        p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
    switch error as? DecodingError {
    case .keyNotFound(let k, let c)?: return "missing field \(path(c.codingPath + [k]))"
    case .typeMismatch(_, let c)?: return "wrong type at \(path(c.codingPath))"
    case .valueNotFound(_, let c)?: return "missing value at \(path(c.codingPath))"
    case .dataCorrupted(let c)?: return "bad value at \(path(c.codingPath)): \(c.debugDescription)"
    default: return "\(error)"
    }
}
