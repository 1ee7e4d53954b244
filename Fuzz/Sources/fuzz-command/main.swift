// libFuzzer target: the command line. The input, as lossy UTF-8, is split into lines, each line into commands
// (Tokenizer.splitCommands) and words (Tokenizer.words), and each command runs through Session.execute in a
// fresh, silent session that already holds a small synthetic dataset. Errors are fine; crashes and hangs are not.
//
// Commands that write files or legitimately take long are skipped (see `allowed`): save, load, export, report,
// source, sweep, `history save`, `plot --out`, `data` other than a small `data synthetic`; numbers above 1000
// (except seeds), networks above 500k weights, `train` above 2 epochs or on networks above 50k weights, and
// `overfit` unless its arguments are wrong (it trains for up to 500 steps).
import FuzzSupport
import PreflightShell

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.isolate()
    _ = shared
    return 0
}

/// 20 synthetic training samples (and 100 test samples), made once and handed to every fresh session.
private let shared: LoadedData = {
    let s = FuzzSupport.silentSession()
    try! s.execute("data synthetic 20")
    return s.data!
}()

private func weights(_ layers: [Int]) -> Int {
    var n = 0
    for i in 0..<max(0, layers.count - 1) { n += layers[i] * layers[i + 1] + layers[i + 1] }
    return n
}

/// Whether to run `command` in `s`: false for commands that write files or would legitimately run for long.
private func allowed(_ command: String, in s: Session) -> Bool {
    guard let words = try? Tokenizer.words(command), let head = words.first, let cmd = Session.command(named: head) else {
        return true   // unmatched quotes, nothing, or an unknown command: execute reports the error
    }
    let args = Array(words.dropFirst())
    let lower = args.map { $0.lowercased() }
    if cmd.name != "seed" && !(cmd.name == "set" && lower.first == "seed") {
        for a in args { if let v = Double(a), v.isFinite, abs(v) > 1000 { return false } }
    }
    let current = s.config.layers ?? [s.data?.features ?? 784, 128, 128, s.data?.classes ?? 10]
    switch cmd.name {
    case "save", "load", "export", "report", "source", "sweep":
        return false
    case "history":
        return !lower.contains("save")
    case "plot":
        return !args.contains { $0.hasPrefix("-") }
    case "data":
        guard lower.first == "synthetic" else { return false }
        return args.dropFirst().allSatisfy { a in Int(a).map { $0 <= 200 } ?? true }
    case "layers":
        let sizes = args.compactMap { Int($0) }
        return sizes.count < 2 || weights(sizes) <= 500_000
    case "set":
        if lower.first == "threads", args.count == 2, let t = Int(args[1]), t > 4 { return false }
        return true
    case "train":
        guard args.count == 1, let n = Int(args[0]), n <= 2 else { return args.count != 1 || Int(args[0]) == nil }
        return weights(current) <= 50_000
    case "overfit":
        // Up to 500 training steps: seconds per input in a debug build. Only its argument errors are run.
        return args.count > 1 || args.contains { Int($0).map { $0 < 1 || $0 > 10_000 } ?? true }
    default:
        return true
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let s = FuzzSupport.silentSession()
    s.data = shared
    s.config.data = shared.spec
    var count = 0
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        for command in Tokenizer.splitCommands(String(line)) {
            count += 1
            if count > 32 { return 0 }
            guard allowed(command, in: s) else { continue }
            do { try s.execute(command) } catch {}
            if s.quitRequested { return 0 }
        }
    }
    return 0
}
