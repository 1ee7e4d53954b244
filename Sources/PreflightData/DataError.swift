/// A problem with a data file or with finding a dataset. `description` is one line: for a problem with a file it
/// begins with the file's path, then says what is wrong.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// "PATH: what".
    public init(path: String, _ what: String) { self.description = "\(path): \(what)" }
}

/// Loading stopped because `LoadCancellation.requested` said so (^C): nothing was loaded.
public struct DataCancelled: Error, Sendable {
    public init() {}
}

/// How a long load learns that it should stop (the shell sets it to read its ^C flag). Polled between chunks of
/// work, so that a load stops within a fraction of a second.
public enum LoadCancellation {
    /// Safe unguarded: written only by the thread that starts a load, before it starts (the shell sets it in
    /// `data` each time, to the same closure), and only read while the load runs; a thread started for the load
    /// sees the write because starting it orders it after.
    nonisolated(unsafe) public static var requested: (() -> Bool)?

    /// Throws `DataCancelled` when a stop was asked for.
    public static func check() throws {
        if requested?() == true { throw DataCancelled() }
    }
}
