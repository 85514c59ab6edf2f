#!/usr/bin/env bash
# The CrewAI engine's warm start: 10 executions of one crew through `crew-runner --engine crewai`
# (one warm `shim.py serve` per Python, a forked child per execution) vs 10 separate CrewAI
# processes, on the same crew and the same mock LLM, in one run.
#
# Usage (from anywhere; paths are resolved from the repository root):
#   src-tauri/benches/crewai_engine.sh [--reps N] [--crewai-venv DIR] [--shared DIR] [--no-build] [--keep]
#
#   --reps N          measurements per case (default 3); median [min-max] is reported
#   --crewai-venv DIR the CrewAI venv (default /opt/crewai-venv if it exists, else
#                     $HOME/.cache/crew-runner/crewai-1.15.30); DIR/bin/python must import crewai
#   --shared DIR      the shared folder (default: <repo>/../shared, or $CREW_BENCH_SHARED)
#   --no-build        use the existing release binary instead of `cargo build --release`
#   --keep            keep the work dir (raw data, outputs, data dirs, mock counters) under /tmp
#
# What it does:
#   1. builds crew-runner (release, headless, --locked) and copies ../shared/bench/crewai-peer to a
#      temp dir (shared/ is read-only); both sides run the crew in that copy.
#   2. starts one mock_llm.py from that copy (127.0.0.1, port chosen by the OS, delay 0 ms) for the
#      whole run and stops it by its PID at exit.
#   3. one unmeasured warm-up (one CrewAI process, one 1-row engine run: both read the venv into the
#      page cache), then --reps rounds of these cases, the order reversed every other round:
#        crewai-10x1       10 separate `VENV/bin/python run_crewai.py --runs 1` processes, one after
#                          the other (the wall time of all 10; each under `/usr/bin/time -v`)
#        engine-10-c1      one `crew-runner run CREW --engine crewai --python VENV/bin/python
#                          --inputs-file rows.jsonl --concurrency 1` with 10 rows, fresh data dir
#        engine-10-c2      the same with --concurrency 2 (the machine has 2 cores)
#        engine-10-c1-pc   engine-10-c1 with the warm-up's Python probe cache (python-envs.json, kept
#                          per user in ~/.cache/crew-runner): what every run after a machine's first
#                          pays. Every engine case gets its own XDG_CACHE_HOME, so engine-10-c1 and
#                          -c2 are a machine's first run (they probe the Python: one CrewAI import)
#      Every row uses crew.yaml's default topic, as run_crewai.py does. CREW is the copy's `crew/`, a
#      YAML crew the CrewAI engine translates into a CrewAI project at each attempt.
#   4. checks every case: exit 0; all 10 executions `succeeded` with a mock answer ("Report <12
#      hex>", from `crew-runner list --json`; for CrewAI each process's JSON line); the mock's
#      chat-request counter (GET /stats before/after) grew by exactly 2 per execution. A failed check
#      is printed with the output and makes the script exit 1.
#   5. prints markdown tables: wall time median [min-max], max RSS, CPU, the ratio engine / CrewAI
#      (target <= 0.25), and the engine's timeline from `crew-runner list --json` (process start to
#      the first execution's start, first execution, later executions, after the last one).
#
# Wall time is taken by this script around the measured commands (bash EPOCHREALTIME). Max RSS and
# CPU are `/usr/bin/time -v`'s: of crew-runner and the processes it waited for (the Python probe,
# not the warm shim server, which crew-runner does not wait for at exit), for CrewAI the largest
# RSS and the summed CPU of the 10. So memory is also sampled: the peak summed PSS of the measured
# process tree (shim server and forked children included), every 0.2 s. Only 127.0.0.1 is
# contacted; every wait is bounded.
set -euo pipefail

die() { echo "crewai_engine.sh: $*" >&2; exit 2; }

REPS=3
if [ -x /opt/crewai-venv/bin/python ]; then CREWAI_VENV=/opt/crewai-venv; else CREWAI_VENV=$HOME/.cache/crew-runner/crewai-1.15.30; fi
NO_BUILD=0
KEEP=0
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SHARED=${CREW_BENCH_SHARED:-$REPO/../shared}

while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=${2:?}; shift 2 ;;
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
PY="$CREWAI_VENV/bin/python"
[ -x "$PY" ] || die "no $PY: pass --crewai-venv DIR (a venv with crewai==1.15.30)"

RUNS=10
WORK=$(mktemp -d /tmp/crewai-engine.XXXXXX)
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
  echo "building: cargo build --release --no-default-features --locked" >&2
  (cd "$REPO" && cargo build --release --no-default-features --locked --bin crew-runner) >&2
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
rows() {  # rows N > FILE: N JSON Lines rows with crew.yaml's topic
  python3 - "$TOPIC" "$1" <<'EOF'
import json, sys
for _ in range(int(sys.argv[2])):
    print(json.dumps({"topic": sys.argv[1]}))
EOF
}
rows "$RUNS" > "$WORK/rows.jsonl"
rows 1 > "$WORK/row1.jsonl"

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
printf 'case\trep\twall_s\tmax_rss_mb\tcpu_s\tchat_requests\tok\tnote\tpre_s\tfirst_s\tlater_s\tpost_s\ttree_pss_mb\n' > "$RAW"
FAILED=0

# sample_tree PID OUT: in the background (its PID in $SAMPLER), every 0.2 s the summed PSS of PID and
# all its descendants (the warm shim server and its forked children included, shared pages counted
# once), until PID is gone; then writes the peak in MB to OUT.
cat > "$WORK/sample_tree.py" <<'EOF'
import os, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
peak = 0
while os.path.exists(f"/proc/{root}"):
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p))
    todo, total = [root], 0
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    peak = max(peak, total)
    time.sleep(0.2)
open(out, "w").write(f"{peak / 1024:.1f}\n")
EOF
sample_tree() {
  python3 "$WORK/sample_tree.py" "$1" "$2" </dev/null &
  SAMPLER=$!
}

# time_v FILE -> "max_rss_mb cpu_s" from one `/usr/bin/time -v` output
time_v() {
  awk -F': ' '/Maximum resident set size/ {r=$2/1024} /User time/ {u=$2} /System time/ {s=$2}
              END {printf "%.1f %.2f\n", r, u+s}' "$1"
}

# check_crewai OUT... -> "ok ..." or a reason: each process's JSON line from run_crewai.py
check_crewai() {
  python3 - "$@" <<'EOF'
import json, sys
if len(sys.argv) < 2:
    print("no process ran"); sys.exit()
for path in sys.argv[1:]:
    lines = [l for l in open(path, errors="replace").read().splitlines() if l.startswith("{")]
    if not lines:
        print(f"no JSON line from run_crewai.py in {path}"); sys.exit()
    rec = json.loads(lines[-1])
    if not rec.get("final_output_from_mock"):
        print(f"final output did not come from the mock ({path})"); sys.exit()
    if rec.get("network_attempts"):
        print(f"network attempts: {rec['network_attempts']}"); sys.exit()
    if rec.get("llm_requests") != 2:
        print(f"a process made {rec.get('llm_requests')} chat requests, expected 2"); sys.exit()
print("ok crewai=%s" % rec.get("versions", {}).get("crewai"))
EOF
}

# check_engine LIST_JSON T0 T1 RUNS -> "ok ...<TAB>pre<TAB>first<TAB>later<TAB>post" or a reason
# (times in s: process start -> first execution started; the first execution; the median of the
# later ones (started -> finished); the last finish -> process end)
check_engine() {
  python3 - "$@" <<'EOF'
import json, re, statistics, sys
path, t0, t1, runs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
try:
    execs = json.load(open(path))
except Exception as e:
    print(f"`crew-runner list --json` unreadable: {e}"); sys.exit()
report = re.compile(r"^Report [0-9a-f]{12}:")
if len(execs) != runs:
    print(f"{len(execs)} executions listed, expected {runs}"); sys.exit()
bad = [f"{e['id']} {e['status']} (attempt {e.get('attempt')}, errors {e.get('attempt_errors')})"
       for e in execs if e["status"] != "succeeded"]
if bad:
    print("not succeeded: " + "; ".join(bad)); sys.exit()
if not all(report.match(str(e.get("output") or "")) for e in execs):
    print("an output is not a mock answer 'Report <hash>:'"); sys.exit()
retried = sum(1 for e in execs if e.get("attempt") != 1)
execs.sort(key=lambda e: (e["started_at"], e["id"]))
dur = [(e["finished_at"] - e["started_at"]) / 1000 for e in execs]
pre = execs[0]["started_at"] / 1000 - t0
post = t1 - max(e["finished_at"] for e in execs) / 1000
note = f"ok attempts>1: {retried}"
later = f"{statistics.median(dur[1:]):.3f}" if len(dur) > 1 else ""
print(f"{note}\t{pre:.3f}\t{dur[0]:.3f}\t{later}\t{post:.3f}")
EOF
}

record() {  # record CASE REP WALL RSS CPU CHATS EXPECTED OK NOTE [PRE FIRST LATER POST [TREE_PSS]]
  local name=$1 rep=$2 wall=$3 rss=$4 cpu=$5 chats=$6 expected=$7 ok=$8 note=$9
  shift 9
  local pre=${1:-} first=${2:-} later=${3:-} post=${4:-} pss=${5:-}
  if [ "$rep" != warmup ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$wall" "$rss" "$cpu" "$chats" "$ok" "$note" \
      "$pre" "$first" "$later" "$post" "$pss" >> "$RAW"
  fi
  printf '%-16s rep %-6s wall %8ss  max RSS %7s MB  tree PSS %7s MB  cpu %6ss  chat requests %3s/%-3s  %s%s\n' \
    "$name" "$rep" "$wall" "$rss" "$pss" "$cpu" "$chats" "$expected" "$note" \
    "${first:+  (first execution ${first}s, later median ${later}s, before the first ${pre}s)}" >&2
  if [ "$ok" != 1 ]; then FAILED=1; fi
}

# crewai_case CASE REP N: N separate run_crewai.py --runs 1 processes, one after the other
crewai_case() {
  local name=$1 rep=$2 n=$3 i rc=0 before after t0 t1 outs=() max_rss=0 cpu=0
  before=$(chat_count)
  t0=$EPOCHREALTIME
  (
    for i in $(seq 1 "$n"); do
      /usr/bin/time -v -o "$WORK/$name.$rep.$i.time" "$PY" run_crewai.py --runs 1 --port-file "$WORK/mock.port" \
        </dev/null >"$WORK/$name.$rep.$i.out" 2>"$WORK/$name.$rep.$i.err" || { echo "$i $?" > "$WORK/$name.$rep.failed"; exit 1; }
    done
  ) &
  local loop=$!
  sample_tree "$loop" "$WORK/$name.$rep.pss"
  wait "$loop" || rc=$?
  t1=$EPOCHREALTIME
  wait "$SAMPLER" || true
  i=$n
  if [ -f "$WORK/$name.$rep.failed" ]; then read -r i rc < "$WORK/$name.$rep.failed"; fi
  after=$(chat_count)
  for i in $(seq 1 "$n"); do
    [ -f "$WORK/$name.$rep.$i.time" ] || continue
    outs+=("$WORK/$name.$rep.$i.out")
    read -r r c < <(time_v "$WORK/$name.$rep.$i.time")
    max_rss=$(python3 -c "print(max($max_rss, $r))"); cpu=$(python3 -c "print(f'{$cpu + $c:.2f}')")
  done
  local chats=$((after - before)) expected=$((2 * n)) ok=1 note
  note=$(check_crewai "${outs[@]}")
  case "$note" in ok*) ;; *) ok=0 ;; esac
  if [ "$rc" != 0 ]; then ok=0; note="process $i: exit status $rc"; fi
  if [ "$chats" != "$expected" ]; then ok=0; note="$note; mock got $chats chat requests, expected $expected"; fi
  record "$name" "$rep" "$(python3 -c "print(f'{$t1 - $t0:.4f}')")" "$max_rss" "$cpu" "$chats" "$expected" "$ok" "$note" \
    "" "" "" "" "$(cat "$WORK/$name.$rep.pss")"
  if [ "$ok" != 1 ]; then
    echo "---- $name rep $rep FAILED: $note" >&2
    echo "---- stderr of process $i (tail):" >&2; tail -c 3000 "$WORK/$name.$rep.$i.err" >&2; echo >&2
  fi
}

# engine_case CASE REP ROWS_FILE N CONCURRENCY [PROBE_CACHE]: one crew-runner process, fresh data dir
engine_case() {
  local name=$1 rep=$2 rows_file=$3 n=$4 c=$5 cache=${6:-}
  local data out="$WORK/$name.$rep.out" err="$WORK/$name.$rep.err" tv="$WORK/$name.$rep.time"
  local before after t0 t1 rc=0
  data=$(mktemp -d "$WORK/data.$name.$rep.XXXXXX")
  mkdir -p "$data/cache/crew-runner"
  if [ -n "$cache" ]; then cp "$cache" "$data/cache/crew-runner/python-envs.json"; fi
  before=$(chat_count)
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$tv" env -u CREW_RUNNER_DATA_DIR -u CREW_RUNNER_PYTHON \
    OPENAI_API_BASE="$BASE/v1" OPENAI_BASE_URL="$BASE/v1" OPENAI_API_KEY=sk-test XDG_CACHE_HOME="$data/cache" \
    "$BIN" --data-dir "$data" run "$CREW" --engine crewai --python "$PY" \
    --inputs-file "$rows_file" --concurrency "$c" </dev/null >"$out" 2>"$err" &
  local tpid=$!
  sample_tree "$tpid" "$WORK/$name.$rep.pss"
  wait "$tpid" || rc=$?
  t1=$EPOCHREALTIME
  wait "$SAMPLER" || true
  after=$(chat_count)
  local chats=$((after - before)) expected=$((2 * n)) ok=1 rss cpu verdict note pre="" first="" later="" post=""
  read -r rss cpu < <(time_v "$tv")
  "$BIN" --data-dir "$data" list --json --limit 1000 >"$WORK/$name.$rep.list.json" 2>>"$err" || true
  verdict=$(check_engine "$WORK/$name.$rep.list.json" "$t0" "$t1" "$n")
  IFS=$'\t' read -r note pre first later post <<<"$verdict"
  case "$note" in ok*) ;; *) ok=0 ;; esac
  if [ "$rc" != 0 ]; then ok=0; note="exit status $rc; $note"; fi
  if [ "$chats" != "$expected" ]; then ok=0; note="$note; mock got $chats chat requests, expected $expected"; fi
  record "$name" "$rep" "$(python3 -c "print(f'{$t1 - $t0:.4f}')")" "$rss" "$cpu" "$chats" "$expected" "$ok" "$note" \
    "$pre" "$first" "$later" "$post" "$(cat "$WORK/$name.$rep.pss")"
  if [ "$ok" != 1 ]; then
    echo "---- $name rep $rep FAILED: $note; data dir $data" >&2
    echo "---- stdout (head):" >&2; head -c 2000 "$out" >&2; echo >&2
    echo "---- stderr (tail):" >&2; tail -c 3000 "$err" >&2; echo >&2
  fi
  LAST_DATA=$data
}

cd "$PEER"   # run_crewai.py's folder; crew-runner does not depend on the cwd

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "mock on $BASE (pid $MOCK_PID); $REPS reps; load before: $LOAD_BEFORE" >&2
crewai_case crewai-1x1 warmup 1
LAST_DATA=""
engine_case engine-1-c1 warmup "$WORK/row1.jsonl" 1 1
PROBE_CACHE="$WORK/python-envs.json"
if [ -n "$LAST_DATA" ] && [ -f "$LAST_DATA/cache/crew-runner/python-envs.json" ]; then
  cp "$LAST_DATA/cache/crew-runner/python-envs.json" "$PROBE_CACHE"
else
  echo "the warm-up left no python-envs.json: engine-10-c1-pc is skipped" >&2
  PROBE_CACHE=""
fi
[ "$FAILED" = 0 ] || { echo "crewai_engine.sh: the warm-up failed (see above)" >&2; exit 1; }

CASES=(crewai-10x1 engine-10-c1 engine-10-c2)
[ -n "$PROBE_CACHE" ] && CASES+=(engine-10-c1-pc)
for rep in $(seq 1 "$REPS"); do
  order=("${CASES[@]}")
  if [ $((rep % 2)) = 0 ]; then order=(); for ((k=${#CASES[@]}-1; k>=0; k--)); do order+=("${CASES[k]}"); done; fi
  for case_ in "${order[@]}"; do
    case "$case_" in
      crewai-10x1) crewai_case crewai-10x1 "$rep" "$RUNS" ;;
      engine-10-c1) engine_case engine-10-c1 "$rep" "$WORK/rows.jsonl" "$RUNS" 1 ;;
      engine-10-c2) engine_case engine-10-c2 "$rep" "$WORK/rows.jsonl" "$RUNS" 2 ;;
      engine-10-c1-pc) engine_case engine-10-c1-pc "$rep" "$WORK/rows.jsonl" "$RUNS" 1 "$PROBE_CACHE" ;;
    esac
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 5. the tables ------------------------------------------------------------------------------
CREWAI_VERSION=$("$PY" -c 'import importlib.metadata as m; print(m.version("crewai"))' 2>/dev/null || echo "?")
python3 - "$RAW" "$REPS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
reps = int(sys.argv[2])
TARGET = 0.25

def failed(case):
    return any(r["ok"] != "1" for r in rows if r["case"] == case)

def vals(case, key):
    # A case with a failed measurement has no figures: they would not measure this crew.
    return [] if failed(case) else [float(r[key]) for r in rows if r["case"] == case and r[key] != ""]

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

def ratio(case):
    a, b = med(case, "wall_s"), med("crewai-10x1", "wall_s")
    if case == "crewai-10x1":
        return "1"
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"**{r:.2f}**" + (" (target met)" if r <= TARGET else f" (target ≤ {TARGET} NOT met)")

s = lambda x: f"{x:.2f}"
mb = lambda x: f"{x:.0f}"
labels = {
    "crewai-10x1": "CrewAI: 10 × `run_crewai.py --runs 1`, one after the other",
    "engine-10-c1": "engine: 1 `crew-runner run`, 10 rows, --concurrency 1, fresh data dir",
    "engine-10-c2": "engine: the same, --concurrency 2",
    "engine-10-c1-pc": "engine: --concurrency 1, fresh DB, the Python probe cached (any run after a machine's first)",
}
cases = [c for c in labels if any(r["case"] == c for r in rows)]
print()
print("| case | wall s, 10 executions | per execution s | engine / CrewAI wall (target ≤ 0.25) | max RSS MB (largest waited-for process) | peak PSS MB (process tree) | CPU user+sys s |")
print("|---|---|---|---|---|---|---|")
for c in cases:
    per = med(c, "wall_s")
    print(f"| {labels[c]} | {cell(c, 'wall_s', s)} | {'n/a' if per is None else f'{per / 10:.2f}'} | {ratio(c)} "
          f"| {cell(c, 'max_rss_mb', mb)} | {cell(c, 'tree_pss_mb', mb)} | {cell(c, 'cpu_s', s)} |")
eng = [c for c in cases if c.startswith("engine")]
if eng:
    print()
    print("| engine case | start → first execution starts s | first execution s | later executions s (median of 9 each) | last finish → exit s | mock chat requests | checks |")
    print("|---|---|---|---|---|---|---|")
    for c in eng:
        rs = [r for r in rows if r["case"] == c]
        ok = sum(r["ok"] == "1" for r in rs)
        chats = "/".join(sorted({r["chat_requests"] for r in rs}))
        notes = "; ".join(sorted({r["note"] for r in rs}))
        print(f"| {c} | {cell(c, 'pre_s', s)} | {cell(c, 'first_s', s)} | {cell(c, 'later_s', s)} | {cell(c, 'post_s', s)} "
              f"| {chats} | {ok}/{len(rs)} ok; {notes} |")
rs = [r for r in rows if r["case"] == "crewai-10x1"]
if rs:
    print(f"| crewai-10x1 (for the checks) | | | | | {'/'.join(sorted({r['chat_requests'] for r in rs}))} "
          f"| {sum(r['ok'] == '1' for r in rs)}/{len(rs)} ok; {'; '.join(sorted({r['note'] for r in rs}))} |")
print()
print(f"median [min-max] of {reps} rounds; each round runs every case once, the order reversed every other round; "
      "one mock_llm.py (delay 0 ms) for all.")
EOF
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
echo "crew-runner: $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?') ($(rustc --version 2>/dev/null || echo 'rustc ?'), release, --no-default-features); CrewAI: $CREWAI_VERSION, $("$PY" --version 2>&1) ($PY)"
kill -TERM "$MOCK_PID" 2>/dev/null || true
wait "$MOCK_PID" 2>/dev/null || true
MOCK_PID=""
echo "mock final counters: $(cat "$WORK/mock.stderr")"
if [ "$FAILED" = 1 ]; then
  echo "crewai_engine.sh: at least one case failed its checks (see above)" >&2
  exit 1
fi
