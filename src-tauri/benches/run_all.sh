#!/usr/bin/env bash
# Queue workloads W1–W4 side by side with the peers, in one go, as one markdown table.
#
# Usage (from anywhere; paths are resolved from the repository root):
#   src-tauri/benches/run_all.sh [--reps N] [--with-celery] [--shared DIR] [--peers-dir DIR] [--keep]
#
#   --reps N         repetitions for every program (default 3); median [min-max] is reported
#   --with-celery    also re-measure Celery W1–W4 in this run. Needs root for
#                      apt-get install -y redis-server          (when /usr/bin/redis-server is missing)
#                    and creates PEERS_DIR/.venv with celery[redis]==5.7.0 when it is missing.
#                    Takes about 20 min. Without it the Celery column holds the numbers published in
#                    ../shared/bench/peers/RESULTS.md (measured 2026-11-26), labelled as such.
#   --shared DIR     the shared folder (default: <repo>/../shared, or $CREW_BENCH_SHARED)
#   --peers-dir DIR  where ../shared/bench/peers is copied to and built (default /tmp/peers; the
#                    copy keeps its target/ and .venv/ between runs, shared/ itself is read-only)
#   --keep           keep the work dir with the raw outputs of every program
#
# What runs, one after the other (never two at once):
#   1. ours:    cargo bench --no-default-features --features bench-internals --bench queue -- --reps N
#               (W1-live, W1-drain, W2, W3, W4 on the real scheduler + SQLite store, and SQLite T1)
#   2. SQLite:  (cd PEERS_DIR/sqlite-limit && cargo build --release) &&
#               ./target/release/sqlite-limit /tmp/sqlite-limit-db N
#   3. Celery (only with --with-celery): PEERS_DIR/celery_bench.py for the configurations of the
#               published table: w1/w1drain prefork c=2, w2 prefork c=2, w3 prefork c=1 (documented
#               priority config and Celery defaults), w4 with and without terminate.
# Then it prints the markdown table (the same one docs/BENCHMARKS.md holds) on stdout; progress and
# the programs' own output go to stderr. Exits non-zero when a program fails.
set -euo pipefail

die() { echo "run_all.sh: $*" >&2; exit 2; }

REPS=3
WITH_CELERY=0
KEEP=0
PEERS_DIR=/tmp/peers
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SHARED=${CREW_BENCH_SHARED:-$REPO/../shared}

while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=${2:?}; shift 2 ;;
    --with-celery) WITH_CELERY=1; shift ;;
    --shared) SHARED=${2:?}; shift 2 ;;
    --peers-dir) PEERS_DIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
if ! [[ "$REPS" =~ ^[0-9]+$ ]] || [ "$REPS" -lt 1 ] || [ "$REPS" -gt 20 ]; then die "--reps must be 1..20"; fi
PEERS_SRC="$SHARED/bench/peers"
[ -f "$PEERS_SRC/sqlite-limit/Cargo.toml" ] || die "no $PEERS_SRC/sqlite-limit: pass --shared DIR (the shared/ folder)"
command -v python3 >/dev/null || die "python3 is needed to build the table"

WORK=$(mktemp -d /tmp/run-all.XXXXXX)
cleanup() { if [ "$KEEP" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

# --- 1. our queue bench -------------------------------------------------------------------------
echo "== 1/3 cargo bench --no-default-features --features bench-internals --bench queue -- --reps $REPS" >&2
(cd "$REPO" && cargo bench --no-default-features --features bench-internals --bench queue -- --reps "$REPS") 2>&1 \
  | tee "$WORK/queue.txt" >&2
[ "${PIPESTATUS[0]}" = 0 ] || die "the queue bench failed"

# --- 2. SQLite limits ---------------------------------------------------------------------------
echo "== 2/3 SQLite limits: $PEERS_DIR/sqlite-limit, $REPS reps" >&2
mkdir -p "$PEERS_DIR"
# Refresh the sources from shared/ (read-only there); keep target/, .venv/ and runs/ of the copy.
(cd "$PEERS_SRC" && tar --exclude=./target --exclude=./sqlite-limit/target --exclude=./apalis-w1/target \
  --exclude=./.venv --exclude=./runs -cf - .) | (cd "$PEERS_DIR" && tar -xf -)
chmod -R u+w "$PEERS_DIR"
rm -rf /tmp/sqlite-limit-db
(cd "$PEERS_DIR/sqlite-limit" && cargo build --release >&2 \
  && ./target/release/sqlite-limit /tmp/sqlite-limit-db "$REPS") | tee "$WORK/sqlite.txt" >&2
[ "${PIPESTATUS[0]}" = 0 ] || die "sqlite-limit failed"
rm -rf /tmp/sqlite-limit-db

# --- 3. Celery (optional) -----------------------------------------------------------------------
CELERY_TAGS=(w1-prefork-c2 w1drain-prefork-c2 w2-prefork-c2 w3-prefork-c1-docconf w3-prefork-c1-defaults
             w4-terminate-prefork-c2 w4-noterminate-prefork-c2)
celery_args() {
  case "$1" in
    w1-prefork-c2)             echo "--workload w1 --pool prefork --conc 2" ;;
    w1drain-prefork-c2)        echo "--workload w1drain --pool prefork --conc 2" ;;
    w2-prefork-c2)             echo "--workload w2 --pool prefork --conc 2" ;;
    w3-prefork-c1-docconf)     echo "--workload w3 --pool prefork --conc 1 --prefetch 1 --acks-late 1 --priority-conf 1" ;;
    w3-prefork-c1-defaults)    echo "--workload w3 --pool prefork --conc 1 --prefetch 4 --acks-late 0 --priority-conf 0" ;;
    w4-terminate-prefork-c2)   echo "--workload w4term --pool prefork --conc 2" ;;
    w4-noterminate-prefork-c2) echo "--workload w4noterm --pool prefork --conc 2" ;;
  esac
}
CELERY_RUNS=""
if [ "$WITH_CELERY" = 1 ]; then
  echo "== 3/3 Celery W1–W4, $REPS reps per configuration (about 20 min)" >&2
  if [ ! -x /usr/bin/redis-server ]; then
    echo "installing redis-server: apt-get update && apt-get install -y redis-server" >&2
    apt-get update >&2 && apt-get install -y redis-server >&2
  fi
  # The Debian package starts a redis on 6379; the benchmark starts its own on free ports.
  if [ ! -x "$PEERS_DIR/.venv/bin/celery" ]; then
    echo "creating $PEERS_DIR/.venv: pip install 'celery[redis]==5.7.0'" >&2
    python3 -m venv "$PEERS_DIR/.venv" && "$PEERS_DIR/.venv/bin/pip" install -q 'celery[redis]==5.7.0' >&2
  fi
  mkdir -p "$PEERS_DIR/runs" "$WORK/celery"
  for tag in "${CELERY_TAGS[@]}"; do
    rm -f "$PEERS_DIR/runs/$tag.jsonl"   # celery_bench.py appends; keep only this run's reps
    echo "### $(date +%T) celery $tag load=$(cut -d' ' -f1-3 /proc/loadavg)" >&2
    # shellcheck disable=SC2046  # the arguments are fixed words
    (cd "$PEERS_DIR" && timeout 1200 .venv/bin/python celery_bench.py "$tag" --reps "$REPS" -- $(celery_args "$tag")) >&2 \
      || die "celery_bench.py $tag failed"
    cp "$PEERS_DIR/runs/$tag.jsonl" "$WORK/celery/"
  done
  CELERY_RUNS="$WORK/celery"
  CELERY_VERSION=$("$PEERS_DIR/.venv/bin/python" -c 'import celery; print(celery.__version__)')
else
  echo "== 3/3 Celery skipped (no --with-celery): the table shows the published numbers of 2026-11-26" >&2
  CELERY_VERSION=5.7.0
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ----------------------------------------------------------------------------------
export REPS CELERY_RUNS CELERY_VERSION STARTED LOAD_BEFORE LOAD_AFTER
MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
REV="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
export MACHINE REV
python3 "$SCRIPT_DIR/queue_table.py" "$WORK/queue.txt" "$WORK/sqlite.txt"
