#!/usr/bin/env bash
# CrewAI vs Crew Runner on the same crew and the same mock LLM, in one run.
#
# Usage (from anywhere; paths are resolved from the repository root):
#   src-tauri/benches/crewai_compare.sh [--reps N] [--with-crewai] [--crewai-venv DIR]
#                                       [--shared DIR] [--no-build] [--keep]
#
#   --reps N          processes per measured case (default 3); median [min-max] is reported
#   --with-crewai     create the CrewAI venv first if it is missing:
#                       python3 -m venv DIR && DIR/bin/pip install 'crewai==1.15.30'   (~1 min)
#   --crewai-venv DIR the CrewAI venv (default /tmp/crewai-venv); CrewAI is measured when
#                     DIR/bin/python exists, and skipped (with a note) otherwise
#   --shared DIR      the shared folder (default: <repo>/../shared, or $CREW_BENCH_SHARED)
#   --no-build        use the existing release binary instead of `cargo build --release`
#   --keep            keep the work dir (raw data, outputs, mock counters) under /tmp
#
# What it does:
#   1. builds crew-runner (release, headless) and copies ../shared/bench/crewai-peer to a temp dir
#      (shared/ is read-only); both frameworks run the crew in that copy.
#   2. starts one mock_llm.py from that copy (127.0.0.1, port chosen by the OS, delay 0 ms) for
#      the whole run and stops it by its PID at exit.
#   3. one unmeasured warm-up process per framework, then --reps processes of each case, each under
#      `/usr/bin/time -v`, one process at a time:
#        cr-cold     crew-runner --run CREW --model openai/gpt-4o-mini      (fresh data dir = fresh DB)
#        cr-20-c1    crew-runner run CREW --inputs-file 20 rows --concurrency 1  (fresh data dir)
#        cr-20-c4    the same with --concurrency 4
#        crewai-1    run_crewai.py --runs 1                                  (CrewAI 1.15, same mock)
#        crewai-20   run_crewai.py --runs 20                                 (20 kickoffs in a loop)
#      Every row uses the same topic (crew.yaml's default), as run_crewai.py's loop does.
#   4. checks every process: exit 0, the mock's chat-request counter (GET /stats before/after) grew
#      by exactly 2 per run, and every run's final output came from the mock ("Report <12 hex>").
#      A failed check is printed with the process's output and makes the script exit 1.
#   5. prints a markdown table: wall time and max RSS, median [min-max], with CrewAI / Crew Runner
#      ratios and the targets (>= 20x less time, >= 10x less memory).
#
# Wall time is taken by this script around each `/usr/bin/time -v` call (bash EPOCHREALTIME, µs
# resolution; `time -v` itself only prints 10 ms steps); max RSS is `time -v`'s "Maximum resident
# set size". Both frameworks are measured the same way. Only 127.0.0.1 is contacted; every wait is
# bounded.
set -euo pipefail

die() { echo "crewai_compare.sh: $*" >&2; exit 2; }

REPS=3
WITH_CREWAI=0
CREWAI_VENV=/tmp/crewai-venv
NO_BUILD=0
KEEP=0
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SHARED=${CREW_BENCH_SHARED:-$REPO/../shared}

while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=${2:?}; shift 2 ;;
    --with-crewai) WITH_CREWAI=1; shift ;;
    --crewai-venv) CREWAI_VENV=${2:?}; shift 2 ;;
    --shared) SHARED=${2:?}; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
if ! [[ "$REPS" =~ ^[0-9]+$ ]] || [ "$REPS" -lt 1 ] || [ "$REPS" -gt 20 ]; then die "--reps must be 1..20"; fi
PEER_SRC="$SHARED/bench/crewai-peer"
[ -f "$PEER_SRC/mock_llm.py" ] || die "no $PEER_SRC/mock_llm.py: pass --shared DIR (the shared/ folder)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
command -v python3 >/dev/null || die "python3 is needed for the mock LLM"
command -v curl >/dev/null || die "curl is needed to read the mock's /stats"

RUNS=20
MODEL=openai/gpt-4o-mini
WORK=$(mktemp -d /tmp/crewai-compare.XXXXXX)
MOCK_PID=""
cleanup() {
  if [ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$MOCK_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. build and copy ------------------------------------------------------------------------
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BIN="$TARGET_DIR/release/crew-runner"
if [ "$NO_BUILD" = 0 ]; then
  echo "building: cargo build --release --no-default-features" >&2
  (cd "$REPO" && cargo build --release --no-default-features --bin crew-runner) >&2
fi
[ -x "$BIN" ] || die "no release binary at $BIN"
cp -r "$PEER_SRC" "$WORK/crewai-peer"
chmod -R u+w "$WORK/crewai-peer"
rm -rf "$WORK/crewai-peer/results" "$WORK/crewai-peer/.venv" "$WORK/crewai-peer/.crewai_storage"
PEER="$WORK/crewai-peer"
CREW="$PEER/crew"
TOPIC=$(python3 - "$CREW/crew.yaml" <<'EOF'
import re, sys
# crew.yaml's inputs.topic without a YAML library: the indented "topic:" line under "inputs:".
text = open(sys.argv[1]).read()
m = re.search(r"^inputs:\s*\n(?:[ \t]+.*\n)*?[ \t]+topic:[ \t]*(.+)$", text, re.M)
print(m.group(1).strip().strip("'\"") if m else "AI agent frameworks")
EOF
)
python3 - "$TOPIC" "$RUNS" > "$WORK/rows.jsonl" <<'EOF'
import json, sys
for _ in range(int(sys.argv[2])):
    print(json.dumps({"topic": sys.argv[1]}))
EOF

if [ ! -x "$CREWAI_VENV/bin/python" ] && [ "$WITH_CREWAI" = 1 ]; then
  echo "installing CrewAI into $CREWAI_VENV: python3 -m venv $CREWAI_VENV && $CREWAI_VENV/bin/pip install 'crewai==1.15.30'" >&2
  python3 -m venv "$CREWAI_VENV"
  "$CREWAI_VENV/bin/pip" install -q 'crewai==1.15.30' >&2
fi
HAVE_CREWAI=0
if [ -x "$CREWAI_VENV/bin/python" ]; then
  HAVE_CREWAI=1
  ln -s "$CREWAI_VENV" "$PEER/.venv"   # bench.py expects ./.venv; run_crewai.py only needs the interpreter
fi

# --- 2. the mock --------------------------------------------------------------------------------
python3 "$PEER/mock_llm.py" --port 0 --port-file "$WORK/mock.port" --delay-ms 0 \
  </dev/null >/dev/null 2>"$WORK/mock.stderr" &
MOCK_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
[ -s "$WORK/mock.port" ] || die "mock_llm.py did not write its port within 10 s"
PORT=$(cat "$WORK/mock.port")
BASE="http://127.0.0.1:$PORT"

chat_count() {
  curl -fsS --max-time 5 "$BASE/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])'
}

# --- 3./4. measuring ----------------------------------------------------------------------------
RAW="$WORK/raw.tsv"
printf 'case\trep\twall_s\tmax_rss_mb\tcpu_s\tchat_requests\tok\tnote\n' > "$RAW"
FAILED=0

# check_output CASE RUNS STDOUT_FILE -> prints "ok" or a reason
check_output() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, re, sys
case, runs, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(path, errors="replace").read()
report = re.compile(r"Report [0-9a-f]{12}:")
if case.startswith("crewai"):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    if not lines:
        print("no JSON line from run_crewai.py"); sys.exit()
    rec = json.loads(lines[-1])
    if not rec.get("final_output_from_mock"):
        print("final output did not come from the mock"); sys.exit()
    if rec.get("network_attempts"):
        print("network attempts: %s" % rec["network_attempts"]); sys.exit()
    print("ok distinct_outputs=%s crewai=%s" % (rec.get("distinct_outputs"), rec.get("versions", {}).get("crewai")))
elif runs == 1:
    print("ok" if text.startswith("Report ") and report.match(text) else "stdout does not start with 'Report <hash>:'")
else:
    rows = [l for l in text.splitlines() if l.strip()]
    good = [l for l in rows if re.search(r"\bsucceeded\b", l) and report.search(l)]
    outs = {report.search(l).group(0) for l in good}
    if len(good) != runs:
        print("%d of %d rows succeeded with a 'Report <hash>' output" % (len(good), runs))
    else:
        print("ok distinct_outputs=%d" % len(outs))
EOF
}

# measure CASE REP RUNS CMD... : one process under /usr/bin/time -v, checked, appended to $RAW
measure() {
  local name=$1 rep=$2 runs=$3; shift 3
  local out="$WORK/$name.$rep.out" err="$WORK/$name.$rep.err" tv="$WORK/$name.$rep.time"
  local before after t0 t1 rc=0
  before=$(chat_count)
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$tv" "$@" </dev/null >"$out" 2>"$err" || rc=$?
  t1=$EPOCHREALTIME
  after=$(chat_count)
  local chats=$((after - before)) expected=$((2 * runs))
  local rss cpu
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$tv")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$tv")
  local wall
  wall=$(python3 -c "print(f'{$t1 - $t0:.4f}')")
  local verdict note ok=1
  verdict=$(check_output "$name" "$runs" "$out")
  note=$verdict
  if [ "$rc" != 0 ]; then ok=0; note="exit status $rc"; fi
  if [ "$chats" != "$expected" ]; then ok=0; note="$note; mock got $chats chat requests, expected $expected"; fi
  case "$verdict" in ok*) ;; *) ok=0 ;; esac
  if [ "$rep" != warmup ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$wall" "$rss" "$cpu" "$chats" "$ok" "$note" >> "$RAW"
  fi
  printf '%-10s rep %-6s wall %8ss  max RSS %7s MB  cpu %6ss  chat requests %3s/%-3s  %s\n' \
    "$name" "$rep" "$wall" "$rss" "$cpu" "$chats" "$expected" "$note" >&2
  if [ "$ok" != 1 ]; then
    FAILED=1
    echo "---- $name rep $rep FAILED: $note; command: $*" >&2
    echo "---- stdout (head):" >&2; head -c 2000 "$out" >&2; echo >&2
    echo "---- stderr (tail):" >&2; tail -c 3000 "$err" >&2; echo >&2
  fi
}

# The exact commands, run directly under /usr/bin/time (no wrapper shell in the measurement).
CR=(env -u CREW_RUNNER_DATA_DIR OPENAI_API_BASE="$BASE/v1" OPENAI_API_KEY=sk-test "$BIN")
fresh_data() { mktemp -d "$WORK/data.XXXXXX"; }   # a fresh data dir = a fresh database
cd "$PEER"   # run_crewai.py's folder, as bench.py runs it; crew-runner does not depend on the cwd

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "mock on $BASE (pid $MOCK_PID); $REPS reps; load before: $LOAD_BEFORE" >&2
for rep in warmup $(seq 1 "$REPS"); do
  measure cr-cold "$rep" 1 "${CR[@]}" --data-dir "$(fresh_data)" --run "$CREW" --model "$MODEL"
done
for c in 1 4; do
  for rep in $(seq 1 "$REPS"); do
    measure "cr-20-c$c" "$rep" "$RUNS" "${CR[@]}" --data-dir "$(fresh_data)" run "$CREW" --model "$MODEL" \
      --inputs-file "$WORK/rows.jsonl" --concurrency "$c"
  done
done
if [ "$HAVE_CREWAI" = 1 ]; then
  for rep in warmup $(seq 1 "$REPS"); do
    measure crewai-1 "$rep" 1 "$CREWAI_VENV/bin/python" run_crewai.py --runs 1 --port-file "$WORK/mock.port"
  done
  for rep in $(seq 1 "$REPS"); do
    measure crewai-20 "$rep" "$RUNS" "$CREWAI_VENV/bin/python" run_crewai.py --runs "$RUNS" --port-file "$WORK/mock.port"
  done
else
  echo "CrewAI not measured: no $CREWAI_VENV/bin/python (use --with-crewai to install it)" >&2
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 5. the table -------------------------------------------------------------------------------
CREWAI_VERSION=$( [ "$HAVE_CREWAI" = 1 ] && "$CREWAI_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("crewai"))' 2>/dev/null || echo "not measured")
python3 - "$RAW" "$REPS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
reps = int(sys.argv[2])

def failed(case):
    return any(r["ok"] != "1" for r in rows if r["case"] == case)

def vals(case, key):
    # A case with a failed process has no figures: its numbers would not measure this crew.
    return [] if failed(case) else [float(r[key]) for r in rows if r["case"] == case]

def med(case, key):
    v = vals(case, key)
    return statistics.median(v) if v else None

def cell(case, key, fmt):
    if failed(case):
        return "FAILED (see checks)"
    v = vals(case, key)
    if not v:
        return "n/a"
    return f"{fmt(statistics.median(v))} [{fmt(min(v))}-{fmt(max(v))}]"

def ratio(peer, ours, key, target):
    a, b = med(peer, key), med(ours, key)
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"**{r:.0f}x**" + (" (target met)" if r >= target else f" (target {target}x NOT met)")

s = lambda x: f"{x:.3f}"
mb = lambda x: f"{x:.1f}"
print()
print("| workload | Crew Runner wall s | CrewAI wall s | time: CrewAI / Crew Runner | Crew Runner max RSS MB | CrewAI max RSS MB | memory: CrewAI / Crew Runner |")
print("|---|---|---|---|---|---|---|")
for label, ours, peer in [
    ("1 run, cold process (Crew Runner: fresh DB)", "cr-cold", "crewai-1"),
    ("20 runs in one process, sequential (Crew Runner --concurrency 1)", "cr-20-c1", "crewai-20"),
    ("20 runs in one process (Crew Runner --concurrency 4; CrewAI sequential)", "cr-20-c4", "crewai-20"),
]:
    print(f"| {label} | {cell(ours, 'wall_s', s)} | {cell(peer, 'wall_s', s)} | {ratio(peer, ours, 'wall_s', 20)} "
          f"| {cell(ours, 'max_rss_mb', mb)} | {cell(peer, 'max_rss_mb', mb)} | {ratio(peer, ours, 'max_rss_mb', 10)} |")
# Per additional run: (20-run process - 1-run process) / 19, from the medians.
def per_run(c20, c1):
    a, b = med(c20, "wall_s"), med(c1, "wall_s")
    return None if a is None or b is None else (a - b) / 19
ours_pr, peer_pr = per_run("cr-20-c1", "cr-cold"), per_run("crewai-20", "crewai-1")
fmt_ms = lambda x: "n/a" if x is None else f"{x * 1000:.1f} ms"
pr_ratio = "n/a" if ours_pr in (None, 0) or peer_pr is None else f"{peer_pr / ours_pr:.0f}x"
print(f"| per extra run, derived: (20-run − 1-run) / 19, sequential | {fmt_ms(ours_pr)} | {fmt_ms(peer_pr)} | {pr_ratio} | | | |")
print()
print("| case | CPU user+sys s | mock chat requests per process | checks |")
print("|---|---|---|---|")
for case in ["cr-cold", "cr-20-c1", "cr-20-c4", "crewai-1", "crewai-20"]:
    rs = [r for r in rows if r["case"] == case]
    if not rs:
        continue
    chats = sorted({r["chat_requests"] for r in rs})
    ok = sum(r["ok"] == "1" for r in rs)
    notes = sorted({r["note"] for r in rs})
    cpu = [float(r["cpu_s"]) for r in rs]
    print(f"| {case} | {statistics.median(cpu):.2f} [{min(cpu):.2f}-{max(cpu):.2f}] | {'/'.join(chats)} | {ok}/{len(rs)} ok; {'; '.join(notes)} |")
print()
print(f"median [min-max] of {reps} processes per case, one process at a time, one mock_llm.py (delay 0 ms) for all.")
EOF
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
echo "crew-runner: $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?') ($(rustc --version 2>/dev/null || echo 'rustc ?'), release, --no-default-features); CrewAI: $CREWAI_VERSION, $(python3 --version 2>&1)"
kill -TERM "$MOCK_PID" 2>/dev/null || true
wait "$MOCK_PID" 2>/dev/null || true
MOCK_PID=""
echo "mock final counters: $(cat "$WORK/mock.stderr")"
if [ "$FAILED" = 1 ]; then
  echo "crewai_compare.sh: at least one process failed its checks (see above)" >&2
  exit 1
fi
