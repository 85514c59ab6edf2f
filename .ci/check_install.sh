#!/usr/bin/env bash
# The install paths the README documents, from this checkout:
#   1. `cargo install --path src-tauri --no-default-features` (headless) and `cargo install --path
#      src-tauri` (the desktop app), each then run headless: `--version` and a crew on the offline model;
#   2. the .deb that Tauri's bundler makes from the release binary (`tauri bundle --bundles deb`),
#      installed with `apt install ./….deb`, run the same way from /usr/bin, then removed.
# Called by .ci/test after the release build (step 4), whose artifacts both reuse (`--target-dir`).
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs an installed `crew-runner` headless: its version, and an example crew on the offline model in
# a copy of the examples (the crew's workspace is inside its folder) with a data dir of its own.
try_binary() {
  local bin="$1" label="$2"
  # (Outputs are captured before grep reads them: `cmd | grep -q` under pipefail fails with SIGPIPE,
  # exit 141, whenever grep stops reading before cmd has written everything.)
  local version
  version="$("$bin" --version)"
  grep -q '^crew-runner ' <<<"$version" || { echo "$label: --version printed no version" >&2; exit 1; }
  rm -rf "$work/examples" "$work/data"
  cp -r examples "$work/examples"
  local out
  out="$(CREW_RUNNER_DATA_DIR="$work/data" "$bin" --run "$work/examples/blog-writer.yaml" --model offline 2>/dev/null)"
  [ -n "$out" ] || { echo "$label: --run printed no output" >&2; exit 1; }
  echo "ok: $label ($("$bin" --version))"
}

# 1. cargo install, headless and with the desktop app (debug profile for the headless one: the
#    test build's artifacts; release for the app: step 4's).
cargo install --locked --quiet --path src-tauri --no-default-features --debug --target-dir target --root "$work/headless"
try_binary "$work/headless/bin/crew-runner" "cargo install --no-default-features"
cargo install --locked --quiet --path src-tauri --target-dir target --root "$work/gui"
try_binary "$work/gui/bin/crew-runner" "cargo install (desktop app)"

# 2. The .deb, from the release binary step 4 built.
rm -rf target/release/bundle/deb
ui/node_modules/.bin/tauri bundle --bundles deb
deb="$(ls target/release/bundle/deb/*.deb)"
info="$(dpkg-deb -I "$deb")"
grep -q '^ Package: crew-runner$' <<<"$info" || { echo "$deb: no 'Package: crew-runner' in its control file" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  if [ -n "${CI:-}" ]; then echo "installing the .deb needs root" >&2; exit 1; fi
  echo "skipped: installing $deb needs root"
  exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$PWD/$deb" >/dev/null
try_binary /usr/bin/crew-runner "apt install $(basename "$deb")"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq crew-runner >/dev/null
