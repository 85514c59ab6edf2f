#!/usr/bin/env python3
"""Fails when src-tauri/Cargo.toml's `rust-version` is below what a locked dependency declares.

Reads `cargo metadata --locked` (every package of Cargo.lock's resolve, every platform, dev
dependencies included: the minimum must build the tests too) and compares the highest
`rust-version` among the dependencies with the crate's own. Prints the packages that need the
highest version. Exit 0: the declared minimum is at least that; 1: it is lower (set it to the
printed value); 2: the metadata could not be read.
"""
import json
import subprocess
import sys


def parse(version):
    return tuple(int(part) for part in version.split("."))


def main():
    try:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True, capture_output=True, text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check_rust_version: cargo metadata failed: {e}", file=sys.stderr)
        return 2
    meta = json.loads(out)
    members = set(meta["workspace_members"])
    resolved = {node["id"] for node in meta["resolve"]["nodes"]}
    own = [p for p in meta["packages"] if p["id"] in members and p["name"] == "crew-runner"]
    if not own or not own[0].get("rust_version"):
        print("check_rust_version: src-tauri/Cargo.toml declares no rust-version", file=sys.stderr)
        return 1
    declared = own[0]["rust_version"]
    needs = [
        (parse(p["rust_version"]), f'{p["name"]} {p["version"]}')
        for p in meta["packages"]
        if p["id"] in resolved and p["id"] not in members and p.get("rust_version")
    ]
    highest = max(v for v, _ in needs)
    shown = ".".join(str(x) for x in highest)
    which = sorted(name for v, name in needs if v == highest)
    if parse(declared) < highest:
        print(
            f"rust-version {declared} in src-tauri/Cargo.toml is below what the locked dependencies need: "
            f"{shown} ({', '.join(which[:6])}{' …' if len(which) > 6 else ''}); set rust-version = \"{shown}\"",
            file=sys.stderr,
        )
        return 1
    print(f"rust-version {declared}: the locked dependencies need at most {shown} ({', '.join(which[:3])}{' …' if len(which) > 3 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
