extension Commands {
    static let export = Command(
        "export", group: .pictures, forms: [[.value(.path("FILE.json|FILE.csv"))]], options: [CommandOption("--no-timings")],
        brief: "export FILE.json|.csv",
        summary: "every run's recorded metrics as JSON (docs/export.md) or tidy CSV",
        details: "--no-timings writes null for seconds and samples/s, so two exports of the same seed compare byte for byte",
        example: "export runs.json", writesFiles: true) { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("export: give one file name") }
            try s.export(inv.words[0], timings: !inv.flag("--no-timings"), usage: inv.usage)
        }

    static let report = Command(
        "report", group: .pictures, forms: [[.value(.path("FILE.html"))]],
        summary: "one self-contained HTML page: every run's configuration, checks, first batch and charts",
        details: """
        charts (inline SVG, runs overlaid): loss, accuracy, hidden-layer means, first-batch saturation
        per run: configuration, first-batch numbers, check table, per-epoch metrics
        the page makes no network requests and runs no scripts
        """,
        example: "report study.html", writesFiles: true) { s, inv in
            let a = inv.words
            guard a.count == 1 else { throw inv.usageError("report: give one file name") }
            let lower = a[0].lowercased()
            guard lower.hasSuffix(".html") || lower.hasSuffix(".htm") else {
                throw inv.usageError("report: the file name must end in .html, got `\(a[0])`")
            }
            guard !s.runs.isEmpty else { throw CommandError("report: no runs yet: `train N` records one") }
            let html = s.reportHTML()
            try s.writeOutput(a[0], Array(html.utf8))
            s.console.info("wrote the report on \(s.runs.count) run\(s.runs.count == 1 ? "" : "s") to \(a[0])")
        }

    static let save = Command(
        "save", group: .pictures, forms: [[.value(.path("PATH"))]],
        summary: "save the whole session (configuration, runs, records, thresholds, weights, optimiser state) to one file",
        details: """
        the file is a ZIP that numpy.load reads as an .npz: RUN/W1, RUN/b1, … are each layer's weights and bias \
        (float32), RUN/optimizer/m_W1 … the optimiser's moments; session.json holds the rest
        the data are not stored: `load` loads them again with the same `data` command
        the file is written to a temporary name and renamed into place
        """,
        example: "save study.npz", writesFiles: true) { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("save: give one file name") }
            try s.saveSession(to: inv.words[0])
        }

    static let load = Command(
        "load", group: .pictures, forms: [[.value(.path("PATH"))]],
        summary: "replace the session with one saved by `save`; training continues exactly where it left off",
        details: """
        the file is checked completely first (ZIP structure, every entry's CRC, version, shapes); \
        on any problem nothing changes
        the data are loaded again with the saved `data` command (a warning says so if they cannot be)
        """,
        example: "load study.npz") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("load: give one file name") }
            try s.loadSession(from: inv.words[0])
        }
}
