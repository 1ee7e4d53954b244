import Foundation
import XCTest

/// The real release binary at a real terminal: tmux on a private socket, keys sent, the screen polled.
/// Skipped (visibly) where the binary or tmux is missing. No network, no MNIST: `data synthetic`.
final class InteractiveTerminalTests: XCTestCase {
    private var socket = ""
    private var home = ""
    private var tmuxPath = ""
    private var serverStarted = false
    private var target = "pf"

    /// The release binary: $PREFLIGHT_BIN, else `.build/release/preflight` under the package root.
    private static var binary: String {
        if let b = ProcessInfo.processInfo.environment["PREFLIGHT_BIN"], !b.isEmpty { return b }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/preflight").path
    }

    private static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for d in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(d)/\(name)") {
            return "\(d)/\(name)"
        }
        return nil
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("\(Self.binary) not built (run scripts/setup)")
        }
        guard let t = Self.which("tmux") else {
            throw XCTSkip("tmux not installed (scripts/setup installs it)")
        }
        tmuxPath = t
        socket = "preflight-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        home = NSTemporaryDirectory() + "preflight-terminal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if serverStarted {
            // The program saves its history when the server's end hangs up its terminal: let it finish, or it
            // writes the history into the folder after it was removed.
            let program = programPID()
            _ = tmux(["kill-server"])
            if let program {
                let deadline = Date().addingTimeInterval(5)
                while isRunning(program) && Date() < deadline { usleep(20_000) }
            }
            let dir = (ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp") + "/tmux-\(getuid())/"
            unlink(dir + socket)
        }
        if !home.isEmpty { try? FileManager.default.removeItem(atPath: home) }
    }

    /// Whether `pid` is alive and not a zombie (an exited program whose parent has not collected it yet).
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let fields = statFields("/proc/\(pid)/stat") else { return false }
        return fields.first != "Z"
    }

    /// The fields of a /proc stat file after the parenthesised name: state first; utime and stime are the 12th
    /// and 13th. Nil when the file cannot be read (the process or thread is gone).
    private func statFields(_ path: String) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let rest = stat.split(separator: ")").last
        else { return nil }
        return rest.split(separator: " ")
    }

    /// A thread of process `pid` other than its main one. kill(2) with a thread's id sends to the whole process
    /// but offers the signal to that thread first.
    private func otherThread(of pid: pid_t) -> pid_t? {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [])
            .compactMap { pid_t($0) }.first { $0 != pid }
    }

    /// The program under the pane's shell (the shell's only child), if it is running.
    private func programPID() -> pid_t? {
        let panePID = tmux(["display-message", "-p", "-t", target, "#{pane_pid}"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(panePID)/task/\(panePID)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) }
    }

    // MARK: tmux

    /// Runs a tmux command and waits for it with waitpid. Not Foundation's Process: a server that tmux starts
    /// inherits the descriptors Process watches to notice the child's exit (and any pipe), which then never close.
    @discardableResult
    private func tmux(_ args: [String]) -> (status: Int32, out: String) {
        let outPath = home + "/tmux-out-\(getpid())"
        let captures = ["capture-pane", "display-message"].contains(args.first ?? "")
        let argv = [tmuxPath, "-L", socket, "-f", "/dev/null"] + args
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, captures ? outPath : "/dev/null",
                                         O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        guard posix_spawn(&pid, tmuxPath, &actions, nil, &cArgs, environ) == 0 else { return (-1, "") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        var out = ""
        if captures {
            out = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
            unlink(outPath)
        }
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : -1, out)
    }

    private func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Starts the shell in a 120×40 terminal with HOME and XDG_STATE_HOME in the test's folder.
    private func start(session: String = "pf") {
        target = session
        let env = "env HOME=\(quoted(home)) XDG_STATE_HOME=\(quoted(home + "/state")) XDG_CACHE_HOME=\(quoted(home + "/cache"))"
            + " TERM=xterm-256color LANG=C.UTF-8 PREFLIGHT_DATA="
        let command = "\(env) \(quoted(Self.binary)); echo PREFLIGHT-EXIT=$?; sleep 120"
        let r = tmux(["new-session", "-d", "-x", "120", "-y", "40", "-s", session, command])
        XCTAssertEqual(r.status, 0, "tmux new-session")
        serverStarted = true
        waitFor("the first prompt") { $0.lastLine == "preflight>" }
    }

    private func send(_ keys: String...) { tmux(["send-keys", "-t", target] + keys) }
    /// Types text literally (no key names).
    private func type(_ text: String) { tmux(["send-keys", "-t", target, "-l", text]) }

    private struct Screen {
        let text: String
        /// The lines down to the last one with something on it.
        var lines: [String] {
            var ls = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
            while let l = ls.last, l.trimmingCharacters(in: .whitespaces).isEmpty { ls.removeLast() }
            return ls
        }
        /// The last line with something on it, trailing spaces removed.
        var lastLine: String {
            lines.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) } ?? ""
        }
        var prompts: Int { lines.filter { $0.hasPrefix("preflight> ") || $0 == "preflight>" }.count }
        func contains(_ s: String) -> Bool { text.contains(s) }
    }

    private func screen() -> Screen {
        Screen(text: tmux(["capture-pane", "-p", "-J", "-S", "-2000", "-t", target]).out)
    }

    /// Polls the screen until `ok` holds (10 s at most); fails with the screen otherwise.
    @discardableResult
    private func waitFor(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                         _ ok: (Screen) -> Bool) -> Screen {
        let deadline = Date().addingTimeInterval(timeout)
        var s = screen()
        while !ok(s) {
            if Date() > deadline {
                XCTFail("timed out waiting for \(what)\n\(diagnosis(s))", file: file, line: line)
                return s
            }
            usleep(30_000)
            s = screen()
        }
        return s
    }

    /// What a timed-out wait shows: the screen's last lines with text (trailing blank rows dropped, so that the
    /// end of a failure message is the end of the screen), then each thread of the program under the pane with
    /// its state and what it waits in (/proc), to tell a hung program from a slow one.
    private func diagnosis(_ s: Screen) -> String {
        var out = "screen (last lines with text):\n" + s.lines.suffix(30).joined(separator: "\n")
        guard let pid = programPID() else { return out + "\nno program under the pane's shell" }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            let dir = "/proc/\(pid)/task/\(task)"
            let rest = statFields(dir + "/stat") ?? []
            let state = rest.first.map(String.init) ?? "?"
            let cpu = rest.count > 12 ? "\(rest[11])+\(rest[12]) ticks" : "?"
            let wchan = (try? String(contentsOfFile: dir + "/wchan", encoding: .utf8)) ?? "?"
            let comm = ((try? String(contentsOfFile: dir + "/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
            out += "\nthread \(task) \(comm): state \(state), cpu \(cpu), waits in \(wchan.isEmpty ? "-" : wchan)"
        }
        return out
    }

    /// Enters a command and waits until it has finished (a new empty prompt below it).
    private func enter(_ command: String, file: StaticString = #filePath, line: UInt = #line) {
        let before = screen().prompts
        type(command)
        send("Enter")
        waitFor("`\(command)` to finish", file: file, line: line) { $0.prompts > before && $0.lastLine == "preflight>" }
    }

    // MARK: tests

    func testPromptCompletionAndSuggestion() {
        start()
        type("hel"); send("Tab")
        waitFor("hel⇥ to complete to help") { $0.lastLine == "preflight> help" }
        send("C-u")
        type("init "); send("Tab"); send("Tab")
        let s = waitFor("the initialisers listed") { $0.contains("glorot") && $0.contains("truncnormal") }
        XCTAssertTrue(s.contains("he-uniform"), s.text)
        // The line is redisplayed below the list, with what was typed.
        waitFor("the line redisplayed") { $0.lastLine == "preflight> init" }
        send("C-u")
        type("init trunc"); send("Tab")
        waitFor("a unique value completed") { $0.lastLine == "preflight> init truncnormal" }
        send("C-u")
        enter("trian 3")
        XCTAssertTrue(screen().contains("did you mean `train`?"), screen().text)
        // ^W deletes one word, not the line.
        type("layers 784 10"); send("C-w")
        waitFor("^W to delete a word") { $0.lastLine == "preflight> layers 784" }
    }

    func testUpRecallsAndCtrlRSearches() {
        start()
        enter("seed 7")
        enter("batch 50")
        send("Up")
        waitFor("Up to recall the previous line") { $0.lastLine == "preflight> batch 50" }
        send("Up")
        waitFor("Up again to the line before") { $0.lastLine == "preflight> seed 7" }
        send("Down")
        waitFor("Down to come back") { $0.lastLine == "preflight> batch 50" }
        send("C-c")
        waitFor("a fresh prompt") { $0.lastLine == "preflight>" }
        enter("epsilon 1e-6")
        let before = screen().prompts
        send("C-r"); type("see")
        waitFor("^R to find `seed 7`") { $0.lines.suffix(3).contains { $0.contains("seed 7") } }
        send("Enter")
        waitFor("the found line to run") { $0.prompts > before && $0.lastLine == "preflight>" }
        enter("set")
        let s = screen()
        XCTAssertTrue(s.lines.contains { $0.range(of: #"seed\s+7"#, options: .regularExpression) != nil }, s.text)
        XCTAssertFalse(s.contains("error"), s.text)
    }

    func testCtrlCCancelsTheLineAndStopsTraining() {
        start()
        type("layers 784 3"); send("C-c")
        waitFor("a fresh prompt after ^C") { $0.lastLine == "preflight>" && $0.prompts == 2 }
        enter("data synthetic 2000")
        XCTAssertFalse(screen().contains("error"), screen().text)
        // Long enough that ^C lands mid-training.
        type("train 100000"); send("Enter")
        waitFor("training to start") { $0.text.range(of: #"epoch +1"#, options: .regularExpression) != nil }
        send("C-c")
        waitFor("the interrupted line and the prompt", timeout: 20) { $0.contains("interrupted") && $0.lastLine == "preflight>" }
        enter("runs")
        let s = screen()
        XCTAssertTrue(s.lines.contains { $0.contains("run1") }, s.text)
        // The session goes on.
        enter("show")
        XCTAssertFalse(screen().contains("PREFLIGHT-EXIT"), screen().text)
    }

    /// The kernel gives a process-directed signal to any thread that does not block it, here OpenBLAS's: ^C
    /// must still cancel the line, which only an interrupted read of the main thread does.
    func testCtrlCHandledOnAnotherThreadStillCancelsTheLine() throws {
        start()
        type("layers 784 3")
        waitFor("the typed line") { $0.lastLine == "preflight> layers 784 3" }
        guard let pid = programPID() else { return XCTFail("no program under the pane's shell") }
        guard let other = otherThread(of: pid) else {
            throw XCTSkip("the program has no thread besides the main one")
        }
        XCTAssertEqual(kill(other, SIGINT), 0)
        waitFor("a fresh prompt after ^C on thread \(other)") { $0.lastLine == "preflight>" && $0.prompts == 2 }
        enter("seed 4")
        XCTAssertFalse(screen().contains("error"), screen().text)
    }

    /// SIGHUP (the terminal closing) received by a thread other than the main one still ends the program at
    /// the prompt, with its history saved.
    func testSIGHUPHandledOnAnotherThreadSavesHistoryAndExits() throws {
        start()
        enter("seed 6")
        guard let pid = programPID() else { return XCTFail("no program under the pane's shell") }
        guard let other = otherThread(of: pid) else {
            throw XCTSkip("the program has no thread besides the main one")
        }
        XCTAssertEqual(kill(other, SIGHUP), 0)
        waitFor("the program to end with SIGHUP") { $0.contains("PREFLIGHT-EXIT=129") }
        let text = try String(contentsOfFile: home + "/state/preflight/history", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: "\\040", with: " ") },
                       ["seed 6"], text)
    }

    func testCtrlDQuitsAndSavesHistory() throws {
        start()
        enter("seed 5")
        enter("batch 20")
        enter("batch 20")   // consecutive duplicates fold
        send("C-d")
        waitFor("the program to exit") { $0.contains("PREFLIGHT-EXIT=0") }
        let path = home + "/state/preflight/history"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("_HiStOrY_V2_"), text)
        let entries = text.split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: "\\040", with: " ") }
        XCTAssertEqual(entries, ["seed 5", "batch 20"], text)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home + "/state/preflight")
        XCTAssertEqual(leftovers, ["history"], "no temporary file left behind")

        // A new session starts with that history: Up recalls the last line of the previous one.
        start(session: "again")
        send("Up")
        waitFor("history loaded from the file") { $0.lastLine == "preflight> batch 20" }
    }

    func testSIGTERMSavesHistoryAndExits() throws {
        start()
        enter("seed 9")
        type("batch 3")   // half-typed: not saved
        let me = getpid()
        guard FileManager.default.fileExists(atPath: "/proc/\(me)/task/\(me)/children") else {
            throw XCTSkip("/proc/PID/task/PID/children not available to find the shell's process")
        }
        guard let pid = programPID() else { return XCTFail("no program under the pane's shell") }
        XCTAssertEqual(kill(pid, SIGTERM), 0)
        waitFor("the program to end with SIGTERM") { $0.contains("PREFLIGHT-EXIT=143") }
        let text = try String(contentsOfFile: home + "/state/preflight/history", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: "\\040", with: " ") },
                       ["seed 9"], text)
    }
}
