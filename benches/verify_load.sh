#!/usr/bin/env bash
# Public verification under load: a release `zhengzhao serve` on a fresh data directory
# (SQLite), one issued licence, and wrk (2 threads, CONNECTIONS connections, DURATION
# seconds, loopback) first posting its token to POST /api/v1/verify, then fetching its
# page GET /v/{token}. Every response is checked to be a valid verdict (the count of
# other answers is printed). The per-address rate limit is raised for the run
# (ZHENGZHAO_RATE_LIMIT): all of wrk's requests come from one address.
# Usage: bash benches/verify_load.sh [DURATION] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
connections="${2:-64}"
source benches/lib.sh
ensure_wrk
start_fresh_server ZHENGZHAO_RATE_LIMIT=1000000 ZHENGZHAO_LOG=warn
url=$("$bin" --data "$work/data" issue --seal "$seal" --type 11100000000013338W002 \
    --input templates/examples/food-business-licence.json --out "$work/licence.pdf" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
token="${url##*/}"
check='
local threads = {}
setup = function(thread) table.insert(threads, thread) end
bad = 0
response = function(status, headers, body)
  if status ~= 200 or not (string.find(body, "\"verdict\":\"valid\"", 1, true) or string.find(body, "data-verdict=\"valid\"", 1, true)) then
    bad = bad + 1
  end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("answers that were not a valid verdict: %d\n", total))
end'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token": "$token"}'
$check
LUA
printf '%s\n' "$check" > "$work/get.lua"
echo "== POST /api/v1/verify {token} — ${connections} connections, ${duration}s"
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/api/v1/verify"
echo
echo "== GET /v/{token} — ${connections} connections, ${duration}s"
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/get.lua" "http://127.0.0.1:$port/v/$token"
