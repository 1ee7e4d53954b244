import Foundation
import XCTest
import PreflightShell

/// Everything a console printed (standard output and errors together, in order).
final class PrintedText { var out = "" }

/// A console that keeps what it prints and presses ^C (`Interrupt.request()`) whenever a printed piece satisfies
/// `trigger`, e.g. the progress line of a run's second epoch: for the tests of what an interruption keeps.
func interruptingConsole(interactive: Bool = true, when trigger: @escaping (String) -> Bool) -> (Console, PrintedText) {
    let box = PrintedText()
    let console = Console(out: { s in
        box.out += s
        if trigger(s) { Interrupt.request() }
    }, err: { box.out += $0 }, interactive: interactive)
    return (console, box)
}

/// A session whose output is captured.
final class Captured {
    var out = "", err = ""
    let session: Session
    init(dataDir: String? = ProcessInfo.processInfo.environment["PREFLIGHT_DATA"]) {
        let tmp = NSTemporaryDirectory() + "preflight-test-cache-\(getpid())"
        var o = SessionOptions(dataDir: dataDir, cacheDir: tmp)
        o.allowDownload = false
        let box = Box()
        session = Session(console: Console(out: { box.out += $0 }, err: { box.err += $0 }), options: o)
        self.box = box
    }
    private let box: Box
    final class Box { var out = ""; var err = "" }
    var output: String { box.out }
    var errors: String { box.err }
    func clear() { box.out = ""; box.err = "" }

    /// Runs commands that must succeed.
    func run(_ commands: String, file: StaticString = #filePath, line: UInt = #line) {
        for c in commands.split(separator: ";") {
            do { try session.execute(String(c).trimmingCharacters(in: .whitespaces)) }
            catch { XCTFail("`\(c)` failed: \(error)", file: file, line: line) }
        }
    }
}

/// The package root, found from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The folder holding mnist/ for tests ($PREFLIGHT_DATA), or nil.
var mnistDir: String? {
    guard let d = ProcessInfo.processInfo.environment["PREFLIGHT_DATA"],
          FileManager.default.fileExists(atPath: d + "/mnist/train-images-idx3-ubyte.gz") else { return nil }
    return d
}

func skipWithoutMNIST() throws -> String {
    guard let d = mnistDir else {
        throw XCTSkip("needs MNIST itself: set PREFLIGHT_DATA to a folder holding mnist/ (scripts/test downloads it when online)")
    }
    return d
}

/// Real 28×28 images for a test that does not need MNIST itself: MNIST when $PREFLIGHT_DATA holds it, else
/// Debian's Fashion-MNIST. Returns the dataset's name for `data NAME` and the --data-dir to pass (nil for Debian's).
func realImageData() throws -> (name: String, dataDir: String?) {
    if let d = mnistDir { return ("mnist", d) }
    if FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") { return ("fashion", nil) }
    throw XCTSkip("needs MNIST ($PREFLIGHT_DATA) or Debian's dataset-fashion-mnist (scripts/setup installs it)")
}

/// Runs a release binary (`preflight`, or another product such as `preflight-bench`); returns (status, stdout, stderr).
@discardableResult
func runBinary(_ args: [String], stdin: String? = nil, env: [String: String] = [:], cwd: URL? = nil,
               product: String = "preflight") throws -> (Int32, String, String) {
    let exe = packageRoot.appendingPathComponent(".build/release/" + product)
    guard FileManager.default.isExecutableFile(atPath: exe.path) else {
        throw XCTSkip("\(exe.path) not built (run scripts/setup)")
    }
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    e["NO_COLOR"] = "1"
    e["XDG_CACHE_HOME"] = NSTemporaryDirectory() + "preflight-test-xdg-cache"
    for (k, v) in env { e[k] = v }
    p.environment = e
    if let cwd { p.currentDirectoryURL = cwd }
    let o = Pipe(), er = Pipe(), i = Pipe()
    p.standardOutput = o; p.standardError = er; p.standardInput = i
    try p.run()
    if let stdin { i.fileHandleForWriting.write(stdin.data(using: .utf8)!) }
    try i.fileHandleForWriting.close()
    let outData = o.fileHandleForReading.readDataToEndOfFile()
    let errData = er.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func tempDir() -> URL {
    let u = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("preflight-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

func loadJSON(_ path: String) throws -> [String: Any] {
    let d = try Data(contentsOf: URL(fileURLWithPath: path))
    return try JSONSerialization.jsonObject(with: d) as! [String: Any]
}
