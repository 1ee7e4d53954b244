/// A problem with a data file or with finding a dataset. `description` is one line: for a problem with a file it
/// begins with the file's path, then says what is wrong.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// "PATH: what".
    public init(path: String, _ what: String) { self.description = "\(path): \(what)" }
}
