#!/usr/bin/env bash
# The desktop app's idle CPU: the release GUI binary, window open under Xvfb in a D-Bus session,
# on a data dir with N queued executions in a PAUSED queue (nothing runs), nobody touching it.
# Reports % of one core used by the app process and by its WebKit child processes
# (WebKitWebProcess, WebKitNetworkProcess), from /proc/PID/stat utime+stime over --sample seconds
# after --settle seconds, for each of --runs runs, and their median.
#
#   src-tauri/benches/gui_idle.sh [--binary PATH] [--data-dir DIR] [--executions N]
#                                 [--settle S] [--sample S] [--runs N] [--label TEXT] [--prepare-only]
#
# --binary     the app (default: target/release/crew-runner; build it first with
#              `cd ui && npm ci && npm run build` then `cargo build --release --locked --features gui`)
# --data-dir   where the data lives (default /tmp/crew-gui-idle-data); made once and reused: the
#              queue is paused, then N executions of examples/blog-writer.yaml are submitted with
#              the same binary (`submit --inputs-file`, 10,000 rows per batch, `--model offline`)
# Needs Xvfb/xvfb-run, dbus-run-session and python3 (to count the rows). WEBKIT_DISABLE_COMPOSITING_MODE
# is unset, as in tests/gui_window.rs. Everything it starts runs in one process group of its own,
# which is ended (TERM, then KILL) after each run and on exit. Run it on a quiet machine: it
# prints the load average before and after each run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="$root/target/release/crew-runner"
data_dir="/tmp/crew-gui-idle-data"
executions=100000
settle=20
sample=60
runs=3
label="crew-runner"
prepare_only=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --executions) executions="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --sample) sample="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

[[ -x "$binary" ]] || { echo "no binary at $binary (see --help)" >&2; exit 1; }
for tool in xvfb-run dbus-run-session python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

count_queued() {
  python3 - "$1/crew-runner.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
queued = db.execute("SELECT count(*) FROM executions WHERE status = 'queued'").fetchone()[0]
paused = db.execute("SELECT paused FROM queue_state WHERE id = 1").fetchone()[0]
print(queued, paused)
EOF
}

prepare() {
  mkdir -p "$data_dir"
  if [[ -f "$data_dir/crew-runner.db" ]]; then
    read -r queued paused < <(count_queued "$data_dir")
    if [[ "$queued" == "$executions" && "$paused" == "1" ]]; then return; fi
    echo "$data_dir holds $queued queued executions (paused=$paused), not $executions paused: making it again" >&2
    rm -rf "$data_dir"; mkdir -p "$data_dir"
  fi
  "$binary" --data-dir "$data_dir" --quiet pause >/dev/null
  local rows="$data_dir/rows.jsonl" batch=0 done_rows=0 n
  while (( done_rows < executions )); do
    n=$(( executions - done_rows < 10000 ? executions - done_rows : 10000 ))
    # Distinct rows per batch: a batch's idempotency key is made from its content.
    python3 -c "import json,sys; [print(json.dumps({'subject': f'queue {sys.argv[1]}-{i}'})) for i in range(int(sys.argv[2]))]" "$batch" "$n" >"$rows"
    "$binary" --data-dir "$data_dir" --quiet submit "$root/examples/blog-writer.yaml" --inputs-file "$rows" --model offline >/dev/null
    done_rows=$(( done_rows + n )); batch=$(( batch + 1 ))
  done
  rm -f "$rows"
  read -r queued paused < <(count_queued "$data_dir")
  [[ "$queued" == "$executions" && "$paused" == "1" ]] || { echo "made $queued queued (paused=$paused), wanted $executions" >&2; exit 1; }
}

group=""
end_group() {
  if [[ -n "$group" ]]; then
    kill -TERM -- "-$group" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null || true
    wait "$group" 2>/dev/null || true
    group=""
  fi
}
result="$(mktemp)"
trap 'end_group; rm -f "$result"' EXIT

ticks() { # utime+stime of a pid, in clock ticks (0 if it is gone)
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# The app: the process of the group whose name starts with crew-runner.
app_pid() {
  ps -e -o pgid=,pid=,comm= | awk -v g="$group" '$1 == g && index($3, "crew-runner") == 1 {print $2; exit}'
}

# The WebKit processes under pid $1 (at any depth: a sandbox may sit in between).
webkit_pids() {
  ps -e -o pid=,ppid=,comm= | python3 -c '
import sys
kids, names = {}, {}
for line in sys.stdin:
    pid, ppid, comm = line.split(None, 2)
    kids.setdefault(ppid, []).append(pid)
    names[pid] = comm.strip()
todo, found = [sys.argv[1]], []
while todo:
    for k in kids.get(todo.pop(), []):
        todo.append(k)
        if names[k].startswith("WebKit"):
            found.append(k)
print(" ".join(found))
' "$1"
}

hz=$(getconf CLK_TCK)
# One run: starts the app, samples it, ends it; writes "app web total wall load_before load_after"
# to $result.
one_run() {
  setsid dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
    env -u WEBKIT_DISABLE_COMPOSITING_MODE "$binary" --data-dir "$data_dir" >/dev/null 2>&1 &
  group=$!
  sleep "$settle"
  local app webkit=""
  app=$(app_pid)
  [[ -n "$app" ]] && webkit=$(webkit_pids "$app")
  [[ -n "$app" && -n "$webkit" ]] || { echo "the app ($app) or its WebKit processes ($webkit) did not start" >&2; exit 1; }
  local load_before t0 a0 w0=0 p
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s.%N); a0=$(ticks "$app")
  for p in $webkit; do w0=$(( w0 + $(ticks "$p") )); done
  sleep "$sample"
  local load_after t1 a1 w1=0
  t1=$(date +%s.%N); a1=$(ticks "$app")
  for p in $webkit; do w1=$(( w1 + $(ticks "$p") )); done
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  kill -0 "$app" 2>/dev/null || { echo "the app exited during the sample" >&2; exit 1; }
  end_group
  python3 -c '
import sys
a0, a1, w0, w1 = (int(x) for x in sys.argv[1:5])
t0, t1, hz = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
wall = t1 - t0
app = (a1 - a0) / hz / wall * 100
web = (w1 - w0) / hz / wall * 100
print(f"{app:.3f} {web:.3f} {app + web:.3f} {wall:.1f} {sys.argv[8].replace(chr(32), chr(47))} {sys.argv[9].replace(chr(32), chr(47))}")
' "$a0" "$a1" "$w0" "$w1" "$t0" "$t1" "$hz" "$load_before" "$load_after" >"$result"
}

prepare
(( prepare_only )) && exit 0
echo "| run | app % of a core | WebKit % | total % | sampled s | load before | load after |"
echo "|---|---|---|---|---|---|---|"
all=""
for i in $(seq "$runs"); do
  one_run
  read -r app web total wall lb la <"$result"
  echo "| $label #$i | $app | $web | $total | $wall | $lb | $la |"
  all+="$app $web $total"$'\n'
done
printf '%s' "$all" | python3 -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
print(f"| {sys.argv[1]} median | {med[0]:.3f} | {med[1]:.3f} | {med[2]:.3f} | | | |")
' "$label"
