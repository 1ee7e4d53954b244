import PreflightEngine
import PreflightChecks

extension Commands {
    static let importRecords = Command(
        "import", group: .runs, forms: [[.repeated(.value(.path("FILE.json")))]],
        summary: "add the runs of record files (our export or the Python probe's) as external runs",
        details: """
        every file is read and checked completely first; a bad one changes nothing and the error names the file and the field
        an external run works with check, explain, compare, plot, report, export, runs, use, save and load;
        it has no weights here, so train, overfit and sweep refuse while it is selected
        a run whose name is taken gets a suffix (bad → bad-2), and a note says so; the last run imported is selected
        """,
        example: "import runs/bad.json") { s, inv in try importRecords(s, inv.words) }
}

extension Commands {
    static func importRecords(_ s: Session, _ files: [String]) throws {
        guard !files.isEmpty else { throw Commands.importRecords.usageError("import: give a record file (.json)") }
        // Read everything before touching the session.
        var read: [(file: String, runs: [RecordedRun])] = []
        for f in files {
            do { read.append((f, try RecordReader.read(path: f))) } catch let e as RecordError {
                throw CommandError("import: \(e)")
            }
        }
        var taken = Set(s.runs.map(\.name))
        var added: [Run] = []
        var notes: [String] = []
        for (_, list) in read {
            for rec in list {
                var name = rec.name
                if taken.contains(name) {
                    var k = 2
                    while taken.contains("\(rec.name)-\(k)") { k += 1 }
                    name = "\(rec.name)-\(k)"
                    notes.append("a run named \(rec.name) exists already: the imported one is \(name)")
                }
                taken.insert(name)
                added.append(Run(name: name, record: rec))
            }
        }
        s.runs += added
        s.currentIndex = s.runs.count - 1
        for n in notes { s.console.info("note: \(n)") }
        for (f, list) in read {
            let engines = Set(list.map(\.engineText)).sorted().joined(separator: ", ")
            s.console.info("imported \(list.count) run\(list.count == 1 ? "" : "s") from \(f) (\(engines), schema version \(list[0].version))")
        }
        for r in added {
            var fb = r.firstBatch == nil ? "no first batch" : "first batch"
            if let k = r.record?.outputKind, k != "logits" { fb += " (the model ends in \(k))" }
            s.console.info("  \(r.name): \(r.layersText), \(fb), \(r.epochs.count) epoch\(r.epochs.count == 1 ? "" : "s")")
        }
        s.console.info("selected run \(added.last!.name): `check` judges it")
    }
}
