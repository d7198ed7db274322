#!/usr/bin/env python3
"""Measures the Python and JavaScript example plugins beside the Rust `example` plugin:
first-load time of `hintd serve` (cold: compiled; cached: from the compile cache), the time of
`hintd plugin check` (compiles without a cache), warm `suggest` latency (p50 and p90 over
--calls calls through POST /api/v1/playground, with `instance = "fresh"` and "reuse"), and the
RSS of `hintd serve` with that one plugin loaded (idle, and after the calls).

    plugins/tools/bench-guests.py [--hintd target/debug/hintd] [--calls 60]

The guests must be built first: plugins/intents-py/build.sh, plugins/retrieval-js/build.sh and
the guest workspace (README, quick start). Everything stays on loopback.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ADMIN_KEY = "bench-admin-key"
PLUGINS = {
    "example": "target/wasm/wasm32-wasip2/release/hintd_example.wasm",
    "intents-py": "target/guests/intents-py.wasm",
    "retrieval-js": "target/guests/retrieval-js.wasm",
}
CONTEXT = [
    {"id": "1", "role": "client", "text": "Hello! I want my money back, please refund my order", "sent_at_ms": 1763800000000},
    {"id": "2", "role": "operator", "text": "Hi, let me check.", "sent_at_ms": 1763800001000},
    {"id": "3", "role": "client", "text": "When will my refund arrive? How long does delivery of the return take?", "sent_at_ms": 1763800002000},
]


def install(root, name, instance):
    """plugins/NAME/plugin.toml with the component beside it and `instance` set."""
    src = os.path.join(ROOT, "plugins", name, "plugin.toml")
    wasm = os.path.join(ROOT, PLUGINS[name])
    if not os.path.isfile(wasm):
        sys.exit(f"{wasm} is not built")
    dest = os.path.join(root, name)
    os.makedirs(dest)
    shutil.copy(wasm, os.path.join(dest, f"{name}.wasm"))
    lines = []
    for line in open(src).read().splitlines():
        if line.startswith("wasm ="):
            line = f'wasm = "{name}.wasm"'
        elif line.startswith("instance ="):
            line = f'instance = "{instance}"'
        elif line.startswith("timeout_ms ="):
            line = "timeout_ms = 5000"
        lines.append(line)
    if not any(l.startswith("instance =") for l in lines):
        lines.insert(2, f'instance = "{instance}"')
    open(os.path.join(dest, "plugin.toml"), "w").write("\n".join(lines) + "\n")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def call(base, path, body=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET")
    req.add_header("Authorization", f"Bearer {ADMIN_KEY}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, data, timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")


class Serve:
    def __init__(self, hintd, plugins, data):
        config = os.path.join(data, "hintd.toml")
        open(config, "w").write(
            f'[server]\nadmin_key = "{ADMIN_KEY}"\n[sources.chat2desk]\ntoken = "t"\n'
            f'[plugins]\ncache_dir = "{data}/cache"\n[hints]\nrequest_deadline_ms = 10000\n'
        )
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [hintd, "serve", "--listen", "127.0.0.1:0", "--data", f"sqlite://{data}/hintd.db",
             "--plugins", plugins, "--config", config],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (\S+)", line)
        if not m:
            sys.exit(f"hintd serve printed {line!r}")
        self.base = f"http://{m.group(1)}"
        while True:
            try:
                status, _ = call(self.base, "/readyz")
                if status == 200:
                    break
            except urllib.error.HTTPError:
                pass
            time.sleep(0.02)
        self.load_s = time.monotonic() - self.started

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(hintd, name, instance, calls):
    with tempfile.TemporaryDirectory() as tmp:
        plugins = os.path.join(tmp, "plugins")
        install(plugins, name, instance)
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        row = {"plugin": name, "instance": instance}
        t = time.monotonic()
        subprocess.run([hintd, "plugin", "check", os.path.join(plugins, name)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        row["check_s"] = time.monotonic() - t
        cold = Serve(hintd, plugins, data)
        row["cold_load_s"] = cold.load_s
        cold.stop()
        server = Serve(hintd, plugins, data)
        row["cached_load_s"] = server.load_s
        row["rss_idle_mib"] = rss_mib(server.proc.pid)
        body = {"source": "chat2desk", "context": CONTEXT, "plugins": [name]}
        latencies = []
        for i in range(calls + 5):
            status, result = call(server.base, "/api/v1/playground", body)
            outcome = result["plugins"][0]
            if status != 200 or outcome["outcome"] != "ok":
                sys.exit(f"{name}: {status} {outcome}")
            if i >= 5:
                latencies.append(outcome["latency_ms"])
        latencies.sort()
        row["p50_ms"] = statistics.median(latencies)
        row["p90_ms"] = latencies[int(len(latencies) * 0.9) - 1]
        row["rss_after_mib"] = rss_mib(server.proc.pid)
        server.stop()
        return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hintd", default=os.path.join(ROOT, "target", "debug", "hintd"))
    p.add_argument("--calls", type=int, default=60)
    p.add_argument("--plugins", nargs="*", default=list(PLUGINS))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "plugins"))
        os.makedirs(os.path.join(tmp, "data"))
        bare = Serve(args.hintd, os.path.join(tmp, "plugins"), os.path.join(tmp, "data"))
        bare_rss = rss_mib(bare.proc.pid)
        bare.stop()
    print(f"hintd serve without plugins: RSS {bare_rss:.1f} MiB")
    print("| plugin | instance | `plugin check` s | first load s (cold) | load s (cached) | suggest p50 ms | p90 ms | RSS idle MiB | RSS after calls MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.plugins:
        for instance in ("fresh", "reuse"):
            r = measure(args.hintd, name, instance, args.calls)
            print(f"| {r['plugin']} | {r['instance']} | {r['check_s']:.2f} | {r['cold_load_s']:.2f} | "
                  f"{r['cached_load_s']:.2f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
                  f"{r['rss_idle_mib']:.1f} | {r['rss_after_mib']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
