#!/usr/bin/env bash
# Public verification under load: a release `zhengzhao serve` on a fresh data directory
# (SQLite), one issued licence, and wrk (2 threads, CONNECTIONS connections, DURATION
# seconds, loopback) first posting its token to POST /api/v1/verify, then fetching its
# page GET /v/{token}. Every response is checked to be a valid verdict (the count of
# other answers is printed). The per-address rate limit is raised for the run
# (ZHENGZHAO_RATE_LIMIT): all of wrk's requests come from one address.
# Exits 1 when an answer was not a valid verdict or a target is missed.
# Usage: bash benches/verify_load.sh [DURATION] [CONNECTIONS]
#   VERIFY_TARGET_RPS (default 5000) and VERIFY_TARGET_P99_MS (default 20) are the targets.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
connections="${2:-64}"
min_rps="${VERIFY_TARGET_RPS:-5000}"
max_p99="${VERIFY_TARGET_P99_MS:-20}"
source benches/lib.sh
ensure_wrk
start_fresh_server ZHENGZHAO_RATE_LIMIT=1000000 ZHENGZHAO_LOG=warn
url=$("$bin" --data "$work/data" issue --seal "$seal" --type 11100000000013338W002 \
    --input templates/examples/food-business-licence.json --out "$work/licence.pdf" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
token="${url##*/}"
{
  wrk_check_lua 200 '"verdict":"valid"'
  cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token": "$token"}'
LUA
} > "$work/post.lua"
wrk_check_lua 200 'data-verdict="valid"' > "$work/get.lua"
status=0
echo "== POST /api/v1/verify {token} — ${connections} connections, ${duration}s"
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/post.lua" \
    "http://127.0.0.1:$port/api/v1/verify" | tee "$work/post.out"
check_wrk_result "$work/post.out" "$min_rps" "$max_p99" "POST /api/v1/verify {token}" || status=1
echo
echo "== GET /v/{token} — ${connections} connections, ${duration}s"
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/get.lua" \
    "http://127.0.0.1:$port/v/$token" | tee "$work/get.out"
check_wrk_result "$work/get.out" "$min_rps" "$max_p99" "GET /v/{token}" || status=1
exit $status
