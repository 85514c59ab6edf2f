#!/usr/bin/env python3
"""Regenerates model_prices.json (beside this script) from LiteLLM's price and context-window table.

LiteLLM ships the table in its wheel on PyPI (`litellm/model_prices_and_context_window_backup.json`),
so this needs nothing but the package index: it picks the newest litellm release (or the version
given as the first argument), downloads its wheel, and keeps what Crew Runner reads from each
chat/completion/responses model: provider, prices per token, context window and output limit.
The release's version and upload date are recorded as the table's source and date.

Usage: python3 src-tauri/data/update_model_prices.py [VERSION]
"""

import io
import json
import pathlib
import sys
import urllib.request
import zipfile

INDEX = "https://pypi.org/simple/litellm/"
TABLE = "litellm/model_prices_and_context_window_backup.json"
MODES = {"chat", "completion", "responses"}
FIELDS = ("litellm_provider", "input_cost_per_token", "output_cost_per_token", "max_input_tokens", "max_output_tokens")


def release(version):
    request = urllib.request.Request(INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    files = json.load(urllib.request.urlopen(request, timeout=60))["files"]
    wheels = [f for f in files if f["filename"].endswith(".whl") and "manylinux" in f["filename"] and not f.get("yanked")]
    if version is None:
        key = lambda f: tuple(int(p) for p in f["filename"].split("-")[1].split(".") if p.isdigit())
        version = max(wheels, key=key)["filename"].split("-")[1]
    chosen = [f for f in wheels if f["filename"].split("-")[1] == version]
    if not chosen:
        sys.exit(f"no manylinux wheel of litellm {version} on {INDEX}")
    return version, chosen[0]


def main():
    version, wheel = release(sys.argv[1] if len(sys.argv) > 1 else None)
    data = urllib.request.urlopen(wheel["url"], timeout=300).read()
    table = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(TABLE))
    models = {}
    for name, entry in sorted(table.items()):
        if name == "sample_spec" or not isinstance(entry, dict) or entry.get("mode") not in MODES:
            continue
        kept = {k: entry[k] for k in FIELDS if isinstance(entry.get(k), (int, float, str))}
        if isinstance(kept.get("input_cost_per_token"), (int, float)) and isinstance(kept.get("output_cost_per_token"), (int, float)):
            models[name] = kept
    out = {
        "source": f"LiteLLM {version}, {TABLE} (https://github.com/BerriAI/litellm)",
        "date": wheel.get("upload-time", "")[:10],
        "models": models,
    }
    path = pathlib.Path(__file__).with_name("model_prices.json")
    # One model a line: small, and a refresh shows as a readable diff.
    lines = [f"{json.dumps(name)}: {json.dumps(entry)}" for name, entry in models.items()]
    head = f'{{\n"source": {json.dumps(out["source"])},\n"date": {json.dumps(out["date"])},\n"models": {{\n'
    path.write_text(head + ",\n".join(lines) + "\n}\n}\n")
    print(f"{path}: {len(models)} models from litellm {version} ({out['date']})")


if __name__ == "__main__":
    main()
