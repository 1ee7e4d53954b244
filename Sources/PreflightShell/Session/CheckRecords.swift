import Foundation
import PreflightChecks

extension Program {
    /// `preflight check FILE.json… [--strict] [--json] [--set KEY=VALUE…]`: judges record files without a session
    /// (the CI gate). Every readable file is judged, with the default thresholds changed by `settings` (the keys
    /// and values of the shell's `set check.…`). Returns the exit status: 1 when a file could not be read (the
    /// error names the file and the field) or a setting is wrong, else 2 when `strict` and a check failed, else 0.
    public static func checkRecords(_ files: [String], strict: Bool, json: Bool, settings: [String] = [],
                                    console: Console) -> Int32 {
        // A scratch session: the records become external runs there, judged by the same code as `check`.
        let session = Session(console: console, options: SessionOptions(dataDir: nil, cacheDir: cacheDir))
        for s in settings {
            let parts = s.split(separator: "=", maxSplits: 1).map(String.init)
            do {
                guard parts.count == 2 else { throw CommandError("write KEY=VALUE, e.g. check.saturation.fail=0.2") }
                try session.thresholds.set(parts[0], parts[1])
            } catch {
                console.error("preflight check: --set \(s.prefix(60)): \(error)")
                return 1
            }
        }
        var errors: [RecordError] = []
        var judged: [(file: String, run: Run, findings: [Finding])] = []
        for f in files {
            do {
                // `-` is standard input (a record piped from another program).
                let recs = f == "-" ? try RecordReader.parse(Array(FileHandle.standardInput.readDataToEndOfFile()), file: "<stdin>")
                                    : try RecordReader.read(path: f)
                for rec in recs {
                    let run = Run(name: rec.name, record: rec)
                    judged.append((f == "-" ? "<stdin>" : f, run, session.findings(for: run)))
                }
            } catch let e as RecordError {
                errors.append(e)
                console.error("preflight check: \(e)")
            } catch {
                errors.append(RecordError(file: f, field: "", problem: "\(error)"))
                console.error("preflight check: \(f): \(error)")
            }
        }
        let all = judged.flatMap(\.findings)
        func count(_ v: Verdict) -> Int { all.filter { $0.verdict == v }.count }
        let failing = judged.filter { $0.findings.contains { $0.verdict == .fail } }.map(\.run.name)

        if json {
            let runs: [JSON] = judged.map { j in
                let worst = j.findings.map(\.verdict).filter { $0 != .notRun }.max() ?? .notRun
                let rec = j.run.record!
                let engine = JSON.object([("name", .string(rec.engine)), ("version", rec.engineVersion.map { .string($0) } ?? .null),
                                          ("backend", rec.backend.map { .string($0) } ?? .null)])
                return .object([("file", .string(j.file)), ("name", .string(j.run.name)),
                                ("engine", engine), ("verdict", .string(worst.rawValue)),
                                ("checks", session.checksJSON(j.findings))])
            }
            let errs: [JSON] = errors.map { .object([("file", .string($0.file)), ("field", .string($0.field)), ("problem", .string($0.problem))]) }
            let summary = JSON.object([("runs", .int(judged.count)), ("fail", .int(count(.fail))), ("warn", .int(count(.warn))),
                                       ("ok", .int(count(.ok))), ("not-run", .int(count(.notRun))), ("unreadable", .int(errors.count))])
            console.out(JSON.object([("version", .int(Session.exportVersion)), ("runs", .array(runs)), ("errors", .array(errs)),
                                     ("summary", summary)]).serialized() + "\n")
        } else {
            var lastFile: String? = nil
            for j in judged {
                if j.file != lastFile { console.line("\(j.file):"); lastFile = j.file }
                console.printFindings(j.findings, run: j.run)
            }
            if judged.count + errors.count > 1 {
                console.line("\(judged.count) run\(judged.count == 1 ? "" : "s") judged: \(count(.fail)) fail, \(count(.warn)) warn, \(count(.ok)) ok, \(count(.notRun)) not run"
                             + (errors.isEmpty ? "" : "; \(errors.count) file\(errors.count == 1 ? "" : "s") unreadable"))
            }
        }
        if !errors.isEmpty { return 1 }
        if strict && !failing.isEmpty {
            console.error("preflight check: failing checks in \(failing.joined(separator: ", ")) (--strict)")
            return 2
        }
        return 0
    }
}
