#!/usr/bin/env bash
# Issuing over HTTP under load: a release `zhengzhao serve` on a fresh data directory
# (SQLite), one API client, and wrk posting the shipped 食品经营许可证 example with
# 2 connections (2 concurrent clients) for DURATION seconds on loopback. Prints wrk's
# requests/s and latency percentiles. Usage: bash benches/issue_load.sh [DURATION] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
connections="${2:-2}"
source benches/lib.sh
ensure_wrk
start_fresh_server
key=$("$bin" --data "$work/data" client add --department 11310115MB2C90510L --name load --scopes issue | awk '/^key:/ {print $2}')
body=$(python3 -c 'import json,sys; print(json.dumps({"seal_id": sys.argv[1], "type_code": "11100000000013338W002", "licence": json.load(open("templates/examples/food-business-licence.json"))}))' "$seal")
# Every request is a new licence, so each carries an Idempotency-Key of its own (thread
# number + counter; required by the API).
cat > "$work/post.lua" <<LUA
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) n = 0 end
function request()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "load-" .. tid .. "-" .. n
  return wrk.format("POST", nil, nil, [[$body]])
end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/api/v1/licences"
issued=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from licences").fetchone()[0])' "$work/data/zhengzhao.db")
echo "licences in the register after the run: $issued"
