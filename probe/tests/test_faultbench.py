"""scripts/faultbench, the fault zoo's bench: its scoring arithmetic on a tiny hand-labelled set of verdicts
(not the rules' scores), its header parser and record cuts, and `--quick` end to end (skipped without the
release binary, like test_preflight_check.py)."""

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "faultbench")
BIN = os.environ.get("PREFLIGHT_BIN") or os.path.join(ROOT, ".build", "release", "preflight")


def load_bench():
    loader = importlib.machinery.SourceFileLoader("faultbench", SCRIPT)
    spec = importlib.util.spec_from_loader("faultbench", loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["faultbench"] = mod   # dataclasses look their module up
    loader.exec_module(mod)
    return mod


fb = load_bench()


def case(name, kind="fault", expect=None, may=(), ok=None):
    expect = expect or {}
    if ok is None:
        ok = [r for r in fb.RULES if r not in expect and r not in may]
    return fb.Case(name, name + ".pf", kind, "calibration", "test", dict(expect), list(may), list(ok))


def tl(phases, **fired):
    """A timeline of `phases` phases: every rule ok, except those given as rule=(phase, verdict)."""
    t = {r: ["ok"] * phases for r in fb.RULES}
    for key, (k, v) in fired.items():
        r = key.replace("_", "-")
        for j in range(k, phases):
            t[r][j] = v
    return t


def test_scoring_arithmetic_on_a_hand_labelled_set():
    results = [
        # saturation fires at once: TP (first detection 0); init-loss only at epoch 2 though due by 1: a miss;
        # dead-units must stay ok and fires: a false alarm on a fault; slow is a `may`: other, not counted.
        (case("a", expect={"saturation": 0, "init-loss": 1}, may=["slow"]),
         tl(3, saturation=(0, "fail"), init_loss=(2, "warn"), dead_units=(1, "warn"), slow=(2, "warn"))),
        # saturation expected, never fires: a miss.
        (case("b", expect={"saturation": 0}), tl(3)),
        # a control on which divergence fires at epoch 2: a false alarm on a control; the control is not clean.
        (case("c", kind="control"), tl(3, divergence=(2, "fail"))),
        # a clean control ("not-run" counts as quiet).
        (case("d", kind="control"), {r: ["not-run", "ok"] for r in fb.RULES}),
        # a case that did not run: its expected rule is a miss.
        (case("e", expect={"init-loss": 0}), None),
    ]
    s = fb.score(results)
    sat, il, dead, div, slow = (s.rules[r] for r in ("saturation", "init-loss", "dead-units", "divergence", "slow"))
    assert (sat.tp, sat.miss, sat.fa_control, sat.fa_fault) == (1, 1, 0, 0)
    assert sat.recall == 0.5 and sat.precision == 1.0 and sat.first == [0]
    assert (il.tp, il.miss) == (0, 2) and il.recall == 0.0 and il.precision is None
    assert any("fired only at epoch 2" in m for m in il.missed)
    assert any("did not run" in m for m in il.missed)
    assert (dead.fa_fault, dead.fa_control, dead.precision, dead.recall) == (1, 0, 0.0, None)
    assert (div.fa_control, div.fa_fault, div.precision) == (1, 0, 0.0)
    assert (slow.other, slow.fa_fault, slow.precision) == (1, 0, None)
    total = s.total()
    assert (total.tp, total.miss, total.fa_control, total.fa_fault, total.other) == (1, 3, 1, 1, 1)
    assert total.recall == 0.25 and abs(total.precision - 1 / 3) < 1e-12
    assert (s.faults, s.controls, s.clean_controls, s.failed_cases) == (3, 2, 1, ["e"])
    # the table prints those figures
    text = "\n".join(fb.table(s, "t"))
    assert "| `saturation` | 1 | 1 | 0 | 0 | 0 | 0.50 | 1.00 | median 0, max 0 |" in text
    assert "| **all rules** | 1 | 3 | 1 | 1 | 1 | 0.25 | 0.33 |" in text
    assert "1 of 2 controls entirely clean" in text


def test_an_expected_rule_that_fires_later_than_its_phase_is_a_miss_and_first_fire_counts_warn_and_fail():
    assert fb.first_fire(["not-run", "ok", "warn", "fail"]) == 2
    assert fb.first_fire(["ok", "not-run"]) is None
    s = fb.score([(case("late", expect={"divergence": 2}), tl(5, divergence=(3, "fail")))])
    assert (s.rules["divergence"].tp, s.rules["divergence"].miss) == (0, 1)
    s = fb.score([(case("due", expect={"divergence": 3}), tl(5, divergence=(3, "warn")))])
    assert (s.rules["divergence"].tp, s.rules["divergence"].first) == (1, [3])


def test_header_parsing(tmp_path):
    p = tmp_path / "x.pf"
    p.write_text("# fault: raw pixels\n# kind: fault\n# half: held-out\n# expect: input-range@0 divergence@3\n"
                 "# may: slow\n# ok: rest\n# quick: yes\n\ndata mnist\n")
    c = fb.parse_header(str(p))
    assert c.expect == {"input-range": 0, "divergence": 3} and c.may == ["slow"] and c.quick and c.half == "held-out"
    assert set(c.ok) == set(fb.RULES) - {"input-range", "divergence", "slow"}
    for bad, why in [("# kind: fault\n# half: held-out\n# expect: nope@0\n# ok: rest\n", "fault"),
                     ("# fault: x\n# kind: fault\n# half: middle\n# expect: slow@0\n# ok: rest\n", "half"),
                     ("# fault: x\n# kind: fault\n# half: held-out\n# expect: slow\n# ok: rest\n", "RULE@EPOCHS"),
                     ("# fault: x\n# kind: fault\n# half: held-out\n# expect: slow@1\n# may: slow\n# ok: rest\n", "more than one"),
                     ("# fault: x\n# kind: control\n# half: held-out\n# expect: slow@1\n# ok: rest\n", "control")]:
        p.write_text(bad)
        with pytest.raises(fb.HeaderError, match=why):
            fb.parse_header(str(p))


def test_every_case_in_the_zoo_has_a_valid_header_and_the_halves_are_balanced():
    cases = fb.discover()
    faults = [c for c in cases if c.kind == "fault"]
    controls = [c for c in cases if c.kind == "control"]
    assert len(faults) >= 60 and len(controls) >= 30
    assert len([c for c in faults if c.path.endswith(".py")]) >= 10
    for r in fb.RULES:
        n = [sum(1 for c in faults if c.half == h and r in c.expect) for h in fb.HALVES]
        assert abs(n[0] - n[1]) <= max(1, (n[0] + n[1]) // 4), f"{r}: {n} expecting cases per half"


def test_cuts_keep_the_first_k_epochs_and_drop_a_later_nonfinite_event():
    record = {"version": 2, "engine": {"name": "preflight"}, "runs": [{
        "name": "r", "first_batch": {"loss": 2.3}, "checks": [{"rule": "saturation"}],
        "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}], "nonfinite": {"epoch": 3}}]}
    cs = fb.cuts(record)
    assert [len(c["runs"][0]["epochs"]) for c in cs] == [0, 1, 2, 3]
    assert [c["runs"][0]["name"] for c in cs] == ["r@0", "r@1", "r@2", "r@3"]
    assert all(c["runs"][0]["checks"] == [] and c["engine"] == {"name": "preflight"} for c in cs)
    assert ["nonfinite" in c["runs"][0] for c in cs] == [False, False, False, True]


def binary_available():
    return os.access(BIN, os.X_OK)


@pytest.mark.skipif(not binary_available(), reason=f"no release binary at {BIN} (swift build -c release)")
def test_quick_end_to_end(tmp_path):
    results = os.path.join(ROOT, "faults", "RESULTS.md")
    before = open(results).read() if os.path.exists(results) else None
    env = dict(os.environ, PREFLIGHT_BIN=BIN)
    p = subprocess.run([sys.executable, SCRIPT, "--quick", "--no-build"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    quick = [c for c in fb.discover() if c.quick]
    for c in quick:
        assert re.search(rf"^  {re.escape(c.name)} ", p.stdout, re.M), c.name
    assert "ERROR" not in p.stdout
    # each printed rule row is arithmetically consistent: recall = TP/(TP+miss), precision = TP/(TP+FA)
    rows = re.findall(r"^\| (\S+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\S+) \| (\S+) \|", p.stdout, re.M)
    assert rows
    for _, tp, miss, fac, faf, _, rec, prec in rows:
        tp, miss, fa = int(tp), int(miss), int(fac) + int(faf)
        assert rec == ("–" if tp + miss == 0 else f"{tp / (tp + miss):.2f}")
        assert prec == ("–" if tp + fa == 0 else f"{tp / (tp + fa):.2f}")
    # --quick does not overwrite the full zoo's results
    after = open(results).read() if os.path.exists(results) else None
    assert after == before
