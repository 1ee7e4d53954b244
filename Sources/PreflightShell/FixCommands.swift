import PreflightEngine
import PreflightChecks

// The command entries of `fix` and `diff` (the work is in Fix.swift and Diff.swift).

extension Session {
    static let fixCommands: [Command] = [
        Command(name: "fix", group: .checks, usage: "fix [RULE…] | fix apply N",
                summary: "try the remedies of the failing and warning rules on copies from the same seed, in one table",
                details: """
                each remedy runs on a copy of the current run (its configuration and seed, the same data), as long as \
                its rule needs: the first batch (no update) for a rule flagged there or statically; the run's epochs, at \
                most `set fix.epochs` (default 5), for a curve rule. The table, best first: remedy; the rule's value and \
                verdict before → after; every other rule whose verdict changed; test accuracy before → after; seconds. \
                Nothing in the session changes. ^C stops between remedies and keeps the finished rows.
                RULE…: only these rules' remedies
                fix apply N: start a new run with remedy N (the commands run as if typed: `history save` replays them)
                an imported run: the remedies as advice for its own code
                """,
                example: "fix saturation", handler: { s, a in
                    if a.first?.lowercased() == "apply" {
                        guard a.count == 2 else { throw CommandError("fix apply: give one row number", usage: "fix apply N") }
                        try s.fixApply(a[1])
                        return
                    }
                    try s.fix(a)
                    s.historyOverride = []   // nothing to replay: fix changes nothing (`fix apply` records its commands)
                }),
        Command(name: "diff", group: .runs, usage: "diff A B",
                summary: "what differs between two runs: configuration, verdicts that changed, per-epoch metrics",
                example: "diff run1 run1-fix1", replayable: false, handler: { s, a in
                    guard a.count == 2 else { throw CommandError("diff: give two run names", usage: "diff A B") }
                    let x = try s.run(named: a[0]) ?? { throw s.noSuchRun(a[0]) }()
                    let y = try s.run(named: a[1]) ?? { throw s.noSuchRun(a[1]) }()
                    s.printDiff(s.diff(x, y))
                }),
    ]
}
