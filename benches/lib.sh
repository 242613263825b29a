# Shared by the bench scripts (source it): the target directory, the pyHanko venv, wrk,
# and a release `zhengzhao serve` on a fresh data directory.

# The cargo target directory (CARGO_TARGET_DIR honoured).
bench_target_dir() {
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        echo "$CARGO_TARGET_DIR"
    else
        cargo metadata --format-version 1 --no-deps |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
    fi
}

# A venv with pyHanko under the target directory, created once; prints its path.
pyhanko_venv() {
    local venv="$1/pyhanko-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== creating $venv (pip install pyhanko pyhanko-cli)" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check pyhanko pyhanko-cli >&2
    fi
    echo "$venv"
}

ensure_wrk() {
    command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
}

# Waits until the `serve` writing log $1 listens; a first start makes the demo departments,
# their seals and the time-stamping units (seconds, more on a loaded machine). Exits 1
# with the log when it never does within 120 s.
wait_listening() {
    for _ in $(seq 1200); do grep -q "listening on" "$1" && return 0; sleep 0.1; done
    echo "MISSES: zhengzhao serve did not listen within 120 s:" >&2
    cat "$1" >&2
    exit 1
}

# Builds the release binary and starts `serve` on a fresh data directory on a free
# loopback port, with the environment given as arguments (NAME=VALUE …). Sets bin, work,
# port, server (its pid) and seal (the first demo seal); stops it and removes the
# directory on exit.
start_fresh_server() {
    cargo build --release --quiet --bin zhengzhao
    bin="${CARGO_TARGET_DIR:-target}/release/zhengzhao"
    work=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
    env "$@" "$bin" --data "$work/data" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
    server=$!
    wait_listening "$work/serve.log"
    seal=$(grep -m1 "demo seal:" "$work/serve.log" | awk '{print $3}')
}

# Licences in the register of the server start_fresh_server started (its SQLite file).
licence_count() {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from licences").fetchone()[0])' "$work/data/zhengzhao.db"
}

# Lua for wrk that checks every answer: a response with another status than $1, or whose
# body contains none of the plain strings $2… , counts as bad. At the end wrk prints one
# line `RESULT rps=… p50_ms=… p99_ms=… requests=… bad=… socket_errors=…` that
# `check_wrk_result` reads. Define `request` in the calling script after this if needed.
wrk_check_lua() {
    local status="$1"; shift
    local patterns=""
    for p in "$@"; do patterns+="\"${p//\"/\\\"}\", "; done
    cat <<LUA
local threads = {}
setup = function(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
bad = 0
local patterns = { $patterns }
response = function(status, headers, body)
  local ok = status == $status
  if ok and #patterns > 0 then
    ok = false
    for _, p in ipairs(patterns) do
      if body and string.find(body, p, 1, true) then ok = true end
    end
  end
  if not ok then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d bad=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, total, e.connect + e.read + e.write + e.timeout))
end
LUA
}

# Reads wrk's RESULT line from file $1 and fails (exit 1) unless no answer was bad, no
# socket error happened, the rate is at least $2 requests/s and p99 at most $3 ms.
# $4 names the run in the verdict line.
check_wrk_result() {
    local file="$1" min_rps="$2" max_p99="$3" what="$4"
    local line
    line=$(grep -m1 '^RESULT ' "$file") || { echo "MISSES: $what: wrk printed no RESULT line" >&2; return 1; }
    python3 - "$line" "$min_rps" "$max_p99" "$what" <<'PY'
import sys
line, min_rps, max_p99, what = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
v = dict(kv.split("=") for kv in line.split()[1:])
rps, p99, bad, errs = float(v["rps"]), float(v["p99_ms"]), int(v["bad"]), int(v["socket_errors"])
misses = []
if bad:
    misses.append(f"{bad} wrong answers")
if errs:
    misses.append(f"{errs} socket errors")
if rps < min_rps:
    misses.append(f"{rps:.0f} requests/s < {min_rps:g}")
if p99 > max_p99:
    misses.append(f"p99 {p99:.2f} ms > {max_p99:g} ms")
if misses:
    print(f"MISSES: {what}: " + "; ".join(misses))
    sys.exit(1)
print(f"meets: {what}: {rps:.0f} requests/s (>= {min_rps:g}), p99 {p99:.2f} ms (<= {max_p99:g}), {v['requests']} answers all right")
PY
}

# The raw Ed25519 signatures/s of one core now (`openssl speed -seconds 2 ed25519`), the
# reference every load figure is reported beside.
raw_ed25519_rate() {
    openssl speed -seconds 2 ed25519 2>/dev/null | awk 'tolower($0) ~ /\(ed25519\)/ {print $(NF-1); exit}'
}

# Lua for wrk that POSTs the JSON body $3 with the API key $2, each request with an
# Idempotency-Key of its own (prefix $4), every answer checked to be 201 and to contain
# the plain string $1 (see wrk_check_lua).
wrk_post_lua() {
    local expect="$1" key="$2" body="$3" prefix="$4"
    wrk_check_lua 201 "$expect"
    cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = [[$body]]
local n = 0
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = string.format("$prefix-%d-%d-%d", os.time(), id, n)
  return wrk.format()
end
LUA
}
