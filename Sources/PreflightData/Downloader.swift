import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches files over HTTP(S) into place atomically: the body goes to a temporary file beside the destination,
/// its SHA-256 is computed while it arrives, and only a file whose digest matches is renamed into place.
/// A file that fails verification is deleted.
public enum Downloader {
    /// Polled about 10 times a second during a download; returning true abandons it (^C in the shell).
    /// Safe unguarded: set before any download starts (the shell sets it once at startup, a test around its own
    /// download), never while one runs, and read only by the thread that called `fetch`.
    nonisolated(unsafe) public static var shouldCancel: (() -> Bool)?

    /// Downloads `url` to `destination`, verifying `sha256` (lower-case hex) when given.
    /// - Parameters:
    ///   - timeout: seconds without any data before giving up.
    ///   - progress: (bytes received, bytes expected if known), called on the calling thread about 10 times a second
    ///     and once at the end.
    public static func fetch(url: String, to destination: String, sha256 expected: String?, timeout: Double = 30,
                             progress: ((Int, Int?) -> Void)? = nil) throws {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw DataError("\(url): not an http(s) URL")
        }
        let directory = (destination as NSString).deletingLastPathComponent
        if !directory.isEmpty { try makeDirectory(directory) }
        let temp = "\(destination).part-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw DataError(path: temp, "cannot create the download file: \(FileBytes.reason(errno))") }
        let sink = DownloadSink(fd: fd)
        var keep = false
        defer {
            close(fd)
            if !keep { unlink(temp) }
        }

        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = 6 * 3600
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        let session = URLSession(configuration: config, delegate: sink, delegateQueue: nil)
        let task = session.dataTask(with: URLRequest(url: u))
        task.resume()
        var lastReported = -1
        while sink.done.wait(timeout: .now() + 0.1) == .timedOut {
            let (got, total) = sink.progressSnapshot()
            if got != lastReported { progress?(got, total); lastReported = got }
            if shouldCancel?() == true {
                session.invalidateAndCancel()
                _ = sink.done.wait(timeout: .now() + 2)
                throw DataError("\(url): download interrupted; the partial file was deleted (it starts afresh next time)")
            }
        }
        session.finishTasksAndInvalidate()
        let outcome = sink.outcome()
        if let status = outcome.status, !(200..<300).contains(status) {
            throw DataError("\(url): HTTP \(status) \(HTTPURLResponse.localizedString(forStatusCode: status).capitalized)")
        }
        if let w = outcome.writeError { throw DataError(path: temp, "cannot write the download: \(w)") }
        if let e = outcome.error { throw DataError("\(url): download failed: \(e.localizedDescription)") }
        progress?(outcome.received, outcome.expected ?? outcome.received)
        if let expectedLength = outcome.expected, outcome.received != expectedLength {
            throw DataError("\(url): download incomplete: \(outcome.received) of \(expectedLength) bytes")
        }
        if let expected {
            let actual = outcome.digest
            if actual != expected.lowercased() {
                throw DataError(path: destination, "checksum mismatch: SHA-256 of the download from \(url) is \(actual), expected \(expected.lowercased()); the file was deleted and not used")
            }
        }
        if fsync(fd) != 0 { throw DataError(path: temp, "cannot write the download: \(FileBytes.reason(errno))") }
        if rename(temp, destination) != 0 {
            throw DataError(path: destination, "cannot move the download into place: \(FileBytes.reason(errno))")
        }
        keep = true
    }

    /// Tries each mirror (base URL, with or without a trailing slash) in turn for `fileName`; returns the path
    /// written (`directory/fileName`). The error, if all fail, reports each mirror's failure.
    @discardableResult
    public static func fetch(fileName: String, mirrors: [String], sha256: String, into directory: String, timeout: Double = 30,
                             progress: ((Int, Int?) -> Void)? = nil) throws -> String {
        let destination = (directory as NSString).appendingPathComponent(fileName)
        var failures: [String] = []
        for base in mirrors {
            if shouldCancel?() == true { break }
            let url = base.hasSuffix("/") ? base + fileName : base + "/" + fileName
            do {
                try fetch(url: url, to: destination, sha256: sha256, timeout: timeout, progress: progress)
                return destination
            } catch let e as DataError {
                failures.append(e.description)
            }
        }
        if failures.isEmpty { throw DataError(path: destination, "no mirror to download it from") }
        if failures.count == 1 { throw DataError(failures[0]) }
        throw DataError(path: destination, "every mirror failed: " + failures.joined(separator: "; "))
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DataError(path: path, "cannot create the folder (\(error.localizedDescription))")
        }
    }
}

/// URLSession delegate that streams the body to a file descriptor and hashes it on the way.
private final class DownloadSink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Outcome {
        var status: Int?
        var error: Error?
        var writeError: String?
        var received: Int
        var expected: Int?
        var digest: String
    }

    let done = DispatchSemaphore(value: 0)
    private let fd: Int32
    private let lock = NSLock()
    private var hasher = SHA256.Hasher256()
    private var status: Int?
    private var error: Error?
    private var writeError: String?
    private var received = 0
    private var expected: Int?
    private var signalled = false

    init(fd: Int32) { self.fd = fd }

    func progressSnapshot() -> (Int, Int?) {
        lock.lock(); defer { lock.unlock() }
        return (received, expected)
    }

    func outcome() -> Outcome {
        lock.lock(); defer { lock.unlock() }
        let ok = error == nil && writeError == nil && (status.map { (200..<300).contains($0) } ?? true)
        return Outcome(status: status, error: error, writeError: writeError, received: received, expected: expected,
                       digest: ok ? hasher.finalizeHex() : "")
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.lock()
        if let http = response as? HTTPURLResponse { status = http.statusCode }
        let length = response.expectedContentLength
        expected = length > 0 ? Int(length) : nil
        let ok = status.map { (200..<300).contains($0) } ?? true
        lock.unlock()
        completionHandler(ok ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock(); defer { lock.unlock() }
        if writeError != nil { return }
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var off = 0
            while off < raw.count {
                let n = write(fd, base + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    writeError = FileBytes.reason(errno)
                    return
                }
                off += n
            }
            hasher.update(raw.bindMemory(to: UInt8.self))
        }
        received += data.count
        if writeError != nil { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        let statusOK = status.map { (200..<300).contains($0) } ?? true
        if self.error == nil && statusOK && writeError == nil { self.error = error }
        let first = !signalled
        signalled = true
        lock.unlock()
        if first { done.signal() }
    }
}
