#!/usr/bin/env bash
# The packaged crate (`cargo package -p crew-runner`) holds what its build reads from outside
# src-tauri/: every migration of the top-level `migrations/` (reached through the symlink
# `src-tauri/migrations`, which `store/sqlite/open.rs` embeds with `include_str!`). Checks the file
# list only (`--list`: no verification build, which would take minutes); run the full
# `cargo package -p crew-runner --no-default-features` by hand when the packaging changes.
set -euo pipefail
cd "$(dirname "$0")/.."

list="$(cargo package -p crew-runner --no-default-features --locked --allow-dirty --list 2>/dev/null)"
missing=0
for sql in migrations/*.sql; do
  if ! grep -qxF "$sql" <<<"$list"; then
    echo "cargo package leaves out $sql (is src-tauri/migrations still a symlink to ../migrations?)" >&2
    missing=1
  fi
done
for file in data/model_prices.json build.rs tauri.conf.json; do
  grep -qxF "$file" <<<"$list" || { echo "cargo package leaves out src-tauri/$file" >&2; missing=1; }
done
[ "$missing" = 0 ] && echo "ok: cargo package includes $(ls migrations/*.sql | wc -l) migrations"
exit "$missing"
