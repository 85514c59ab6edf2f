#!/usr/bin/env python3
"""Markdown table of W1–W4: Crew Runner's queue bench vs Celery vs SQLite's limits (for run_all.sh).

    queue_table.py QUEUE_OUTPUT SQLITE_OUTPUT

QUEUE_OUTPUT is the stdout of `cargo bench --bench queue` (its per-repetition "rep N: ..." lines),
SQLITE_OUTPUT the stdout of `sqlite-limit` (its "SUMMARY | name | median X | min Y | max Z" lines).
Celery: re-measured figures are read from $CELERY_RUNS/<tag>.jsonl when that variable names a folder
(written by celery_bench.py); otherwise the published figures of ../shared/bench/peers/RESULTS.md
(measured 2026-11-26) are shown, labelled as published. Other environment variables (REPS, STARTED,
MACHINE, REV, LOAD_BEFORE, LOAD_AFTER, CELERY_VERSION) only fill the notes under the table.
A figure that cannot be parsed is shown as "n/a" and named on stderr. Stdlib only.
"""
import json
import os
import re
import statistics
import sys

# ../shared/bench/peers/RESULTS.md, measured 2026-11-26 06:38-07:24 UTC (Celery 5.7.0 + Redis 7.0.15,
# prefork c=2 unless noted): (median, min, max); None where RESULTS.md gives a median only.
PUBLISHED_CELERY = {
    "w1_live": (536, 531, 575),
    "w1_enqueue": (1318, None, None),
    "w1_drain": (639, 542, 686),
    "w2_started_p50": (2.42, 2.17, 3.66),
    "w2_started_p99": (4.59, 4.15, 7.43),
    "w2_completed_p50": (3.22, 2.89, 4.68),
    "w2_completed_p99": (5.79, 5.48, 8.66),
    "w3_docconf": (0, 0, 0),
    "w3_defaults": (4, 4, 4),
    "w4_terminate_ms": (14, 14, 18),
    "w4_noterminate": "never: revoke() let the job run to its end (59.5 s), final state SUCCESS 3/3",
}

NUM = r"([0-9]+(?:\.[0-9]+)?)"
QUEUE_PATTERNS = {  # figure -> (regex on a "rep N:" line, group)
    "t1": (rf"T1 sqlite {NUM} commits/s", 1),
    "t1_round_trip": (rf"round trip {NUM}/s", 1),
    "t1_round_trip_parking": (rf"parking at once {NUM}/s", 1),
    "sql_alone": (rf"store SQL alone {NUM} jobs/s", 1),
    "w1_live": (rf"W1-live {NUM} jobs/s", 1),
    "w1_live_mt": (rf"W1-live multi-thread {NUM} jobs/s", 1),
    "w1_enqueue": (rf"W1-live {NUM} jobs/s \(enqueue {NUM}/s\)", 2),
    "w1_drain": (rf"W1-drain {NUM} jobs/s", 1),
    "w2_started_p50": (rf"submit->started p50/p95/p99 {NUM}/{NUM}/{NUM} ms", 1),
    "w2_started_p99": (rf"submit->started p50/p95/p99 {NUM}/{NUM}/{NUM} ms", 3),
    "w2_completed_p50": (rf"submit->completed p50/p99 {NUM}/{NUM} ms", 1),
    "w2_completed_p99": (rf"submit->completed p50/p99 {NUM}/{NUM} ms", 2),
    "w3_slipped": (rf"W3 low slipped {NUM}", 1),
    "w4_cancel_ms": (rf"W4 cancel->terminal {NUM} ms", 1),
}


def stats(values):
    """(median, min, max) of the values, or None for none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return (statistics.median(values), min(values), max(values))


def parse_queue(path):
    reps = [line for line in open(path, errors="replace") if re.match(r"^rep \d+:", line)]
    out = {}
    for key, (pattern, group) in QUEUE_PATTERNS.items():
        values = []
        for line in reps:
            m = re.search(pattern, line)
            if m:
                values.append(float(m.group(group)))
        out[key] = stats(values)
        if out[key] is None:
            print(f"queue_table.py: no '{key}' in the queue bench output ({path})", file=sys.stderr)
    out["w4_states"] = sorted({m.group(1) for line in reps for m in [re.search(r"W4 cancel->terminal [0-9.]+ ms \(([^)]*)\)", line)] if m})
    out["reps"] = len(reps)
    return out


def parse_sqlite(path):
    out = {}
    for line in open(path, errors="replace"):
        m = re.match(r"^SUMMARY \| (.+?) \| median ([0-9.]+) \| min ([0-9.]+) \| max ([0-9.]+) \| n=(\d+)", line)
        if m:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
    m = re.search(r"sqlite_version=(\S+)", open(path, errors="replace").read())
    out["_version"] = m.group(1) if m else "?"
    return out


def sqlite_figure(sqlite, prefix):
    for name, value in sqlite.items():
        if name.startswith(prefix):
            return value
    print(f"queue_table.py: no SQLite figure '{prefix}...'", file=sys.stderr)
    return None


def parse_celery(folder):
    def rows(tag):
        path = os.path.join(folder, f"{tag}.jsonl")
        return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []

    def fig(tag, field, scale=1.0):
        return stats([r[field] * scale for r in rows(tag) if isinstance(r.get(field), (int, float))])

    noterm = rows("w4-noterminate-prefork-c2")
    noterm_states = sorted({str(r.get("final_state")) for r in noterm})
    noterm_s = stats([r["cancel_to_terminal_s"] for r in noterm if r.get("cancel_to_terminal_s") is not None])
    revoked = sum(bool(r.get("is_revoked")) for r in noterm)
    return {
        "w1_live": fig("w1-prefork-c2", "jobs_per_s"),
        "w1_enqueue": fig("w1-prefork-c2", "enqueue_rate"),
        "w1_drain": fig("w1drain-prefork-c2", "jobs_per_s"),
        "w2_started_p50": fig("w2-prefork-c2", "started_p50_ms"),
        "w2_started_p99": fig("w2-prefork-c2", "started_p99_ms"),
        "w2_completed_p50": fig("w2-prefork-c2", "completed_p50_ms"),
        "w2_completed_p99": fig("w2-prefork-c2", "completed_p99_ms"),
        "w3_docconf": fig("w3-prefork-c1-docconf", "lows_started_between_first_high_enq_and_last_high_start"),
        "w3_defaults": fig("w3-prefork-c1-defaults", "lows_started_between_first_high_enq_and_last_high_start"),
        "w4_terminate_ms": fig("w4-terminate-prefork-c2", "cancel_to_terminal_s", 1000.0),
        "w4_noterminate": (
            f"revoke(): final state {'/'.join(noterm_states) or 'n/a'}, REVOKED {revoked}/{len(noterm)}"
            + (f", terminal after {fmt(noterm_s, 1)} s" if noterm_s else "")
        ),
    }


def fmt(s, digits=0):
    if s is None:
        return "n/a"
    med, lo, hi = s

    def one(v):
        return f"{v:,.{digits}f}"

    if lo is None or hi is None:
        return one(med)
    return f"{one(med)} [{one(lo)}-{one(hi)}]"


def advantage(ours, peer, higher_is_better):
    """Crew Runner's advantage from the medians: > 1 means Crew Runner is better."""
    if ours is None or peer is None or ours[0] == 0 or peer[0] == 0:
        return "n/a"
    r = ours[0] / peer[0] if higher_is_better else peer[0] / ours[0]
    return f"{r:.1f}x" if r < 10 else f"{r:.0f}x"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours = parse_queue(sys.argv[1])
    sqlite = parse_sqlite(sys.argv[2])
    celery_dir = os.environ.get("CELERY_RUNS") or ""
    if celery_dir:
        celery = parse_celery(celery_dir)
        celery_label = f"Celery {os.environ.get('CELERY_VERSION', '?')} + Redis, prefork (re-measured in this run)"
    else:
        celery = PUBLISHED_CELERY
        celery_label = "Celery 5.7 + Redis 7, prefork (published, 2026-11-26)"

    t1n = sqlite_figure(sqlite, "T1 single-row INSERT commits/s WAL sync=NORMAL")
    t1f = sqlite_figure(sqlite, "T1 single-row INSERT commits/s WAL sync=FULL")
    t3n = sqlite_figure(sqlite, "T3 claim-one-row UPDATE..RETURNING /s WAL sync=NORMAL")
    t3bn = sqlite_figure(sqlite, "T3b claim+complete jobs/s (2 commits/job) WAL sync=NORMAL")
    bound = None
    if t1n and t3bn:  # enqueue (1 commit) + claim + complete (2 commits), from the medians
        bound = (1.0 / (1.0 / t1n[0] + 1.0 / t3bn[0]), None, None)
    commit_ms = (1000.0 / t1n[0], None, None) if t1n else None

    rows = [
        ("W1-live: 10k no-op jobs, random priority, c=2, durable", "jobs/s",
         fmt(ours["w1_live"]), fmt(celery["w1_live"]), advantage(ours["w1_live"], celery["w1_live"], True),
         f"≤ {fmt(bound)} (enqueue + claim + complete = 3 commits, T1 ⊕ T3b NORMAL)"),
        ("W1-live, the same on tokio's multi-thread runtime (a worker per core, no polling before parking)", "jobs/s",
         fmt(ours["w1_live_mt"]), fmt(celery["w1_live"]), advantage(ours["w1_live_mt"], celery["w1_live"], True), ""),
        ("W1-live: enqueue while the workers run", "jobs/s",
         fmt(ours["w1_enqueue"]), fmt(celery["w1_enqueue"]), advantage(ours["w1_enqueue"], celery["w1_enqueue"], True),
         f"{fmt(t1n)} single-row commits/s (T1 NORMAL); {fmt(t1f)} with FULL"),
        ("W1-drain: 10k queued, then drained, c=2", "jobs/s",
         fmt(ours["w1_drain"]), fmt(celery["w1_drain"]), advantage(ours["w1_drain"], celery["w1_drain"], True),
         f"{fmt(t3bn)} claim+complete/s (T3b NORMAL); {fmt(t3n)} claims/s (T3)"),
        ("W2: submit → started p50, idle queue", "ms",
         fmt(ours["w2_started_p50"], 3), fmt(celery["w2_started_p50"], 2),
         advantage(ours["w2_started_p50"], celery["w2_started_p50"], False), f"one commit ≈ {fmt(commit_ms, 3)} ms (1/T1 NORMAL)"),
        ("W2: submit → started p99", "ms",
         fmt(ours["w2_started_p99"], 3), fmt(celery["w2_started_p99"], 2),
         advantage(ours["w2_started_p99"], celery["w2_started_p99"], False), ""),
        ("W2: submit → completed p50", "ms",
         fmt(ours["w2_completed_p50"], 3), fmt(celery["w2_completed_p50"], 2),
         advantage(ours["w2_completed_p50"], celery["w2_completed_p50"], False), ""),
        ("W2: submit → completed p99", "ms",
         fmt(ours["w2_completed_p99"], 3), fmt(celery["w2_completed_p99"], 2),
         advantage(ours["w2_completed_p99"], celery["w2_completed_p99"], False), ""),
        ("W3: LOW jobs started after 10 HIGH were queued (c=1; ideal ≤ 1)", "jobs",
         fmt(ours["w3_slipped"]),
         f"{fmt(celery['w3_docconf'])} documented priority config; {fmt(celery['w3_defaults'])} Celery defaults",
         "", "—"),
        ("W4: cancel a running job → terminal state", "ms",
         fmt(ours["w4_cancel_ms"], 1) + (f" ({'/'.join(ours['w4_states'])})" if ours["w4_states"] else ""),
         f"{fmt(celery['w4_terminate_ms'])} revoke(terminate=True); {celery['w4_noterminate']}",
         advantage(ours["w4_cancel_ms"], celery["w4_terminate_ms"], False), "—"),
    ]

    print()
    print(f"| workload | unit | Crew Runner (this run) | {celery_label} | Crew Runner advantage (> 1 = better) "
          f"| SQLite limit (this run, rusqlite, SQLite {sqlite['_version']}) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("| SQLite limit (sqlite-limit, WAL, fresh file per rep) | rate |")
    print("|---|---|")
    for name, value in sqlite.items():
        if not name.startswith("_"):
            print(f"| {name} | {fmt(value)} |")
    print(f"| T1 NORMAL as measured inside the queue bench (same table and statement) | {fmt(ours['t1'])} |")
    print(f"| T1 NORMAL in the queue bench, each commit acknowledged by a writer thread to an awaiting task (which polls ≤ 200 µs before parking, as the binary's runtime does) | {fmt(ours['t1_round_trip'])} |")
    print(f"| the same, the awaiting thread parking at once (tokio's default) | {fmt(ours['t1_round_trip_parking'])} |")
    print(f"| Crew Runner's SQL alone: W1-live's transactions (insert, claim, settle, 3 log lines per job) run by the store's write code on one connection in one thread, no writer thread or scheduler, jobs/s | {fmt(ours['sql_alone'])} |")
    print()
    print(f"median [min-max] of {os.environ.get('REPS', '?')} repetitions each (queue bench: {ours['reps']} reps parsed); "
          f"run started {os.environ.get('STARTED', '?')} at rev {os.environ.get('REV', '?')}; "
          f"machine: {os.environ.get('MACHINE', '?')}; load average before/after: "
          f"{os.environ.get('LOAD_BEFORE', '?')} / {os.environ.get('LOAD_AFTER', '?')}.")


if __name__ == "__main__":
    main()
