extension Session {
    /// `sweep`: a grid of runs and one table (issue 6).
    static let sweepCommands: [Command] = []
}
