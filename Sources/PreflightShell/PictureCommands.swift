extension Session {
    static let pictureCommands: [Command] = [
        Command(name: "export", group: .pictures, usage: "export FILE.json|FILE.csv [--no-timings]",
                summary: "every run's recorded metrics as JSON (docs/export.md) or tidy CSV",
                details: "--no-timings writes null for seconds and samples/s, so two exports of the same seed compare byte for byte",
                example: "export runs.json", handler: { s, a in try s.export(a) }),
    ] + plotCommands + reportCommands + saveLoadCommands
}
