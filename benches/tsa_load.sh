#!/usr/bin/env bash
# The time-stamping authority over HTTP under load: a release `zhengzhao serve` on a fresh
# data directory (SQLite), one API client with the `timestamp` scope (its rate budget
# raised out of the way), and wrk posting one RFC 3161 request (`openssl ts -query`, SHA-256,
# with a nonce) to `POST /tsa?algorithm=ALG` for DURATION seconds with CONNECTIONS
# connections, once per algorithm. Every answer must be 200 `application/timestamp-reply`
# granting a token (PKIStatus 0), and one reply of each run is checked by `openssl ts
# -verify` for P-256. Each token takes a serial number from the database (one UPDATE …
# RETURNING per request) and one signature.
# Prints wrk's requests/s and latency per run, then a table; exits 1 when an answer was
# wrong or the rate is under TSA_TARGET_RPS (default 300).
# Usage: bash benches/tsa_load.sh [DURATION] [CONNECTIONS] [ALGORITHMS]
#   ALGORITHMS: space separated (default "p256 ed25519 sm2").
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-2}"
algorithms="${3:-p256 ed25519 sm2}"
min_rps="${TSA_TARGET_RPS:-300}"
source benches/lib.sh
ensure_wrk
start_fresh_server ZHENGZHAO_RATE_LIMIT=1000000
key=$("$bin" --data "$work/data" client add --department 11310115MB2C90510L --name tsa-load --scopes timestamp |
  awk '/^key:/ {print $2}')
printf 'the data a department stamps' > "$work/data.txt"
openssl ts -query -data "$work/data.txt" -sha256 -cert -out "$work/request.tsq" 2>/dev/null
status=0
for alg in $algorithms; do
  # One reply first, checked: granted, and for P-256 verified by OpenSSL with the chain.
  curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/timestamp-query' \
    --data-binary @"$work/request.tsq" -o "$work/reply-$alg.tsr" "http://127.0.0.1:$port/tsa?algorithm=$alg"
  openssl ts -reply -in "$work/reply-$alg.tsr" -text 2>/dev/null | grep -q 'Status: Granted.' ||
    { echo "MISSES: $alg: the reply does not grant a time-stamp" >&2; status=1; }
  if [ "$alg" = p256 ]; then
    curl -sf "http://127.0.0.1:$port/pki/tsa-p256.pem" -o "$work/tsa-p256.pem"
    curl -sf "http://127.0.0.1:$port/pki/root-p256.pem" -o "$work/root-p256.pem"
    openssl ts -verify -in "$work/reply-$alg.tsr" -data "$work/data.txt" -CAfile "$work/root-p256.pem" \
      -untrusted "$work/tsa-p256.pem" >/dev/null 2>&1 ||
      { echo "MISSES: openssl ts -verify refused the P-256 reply" >&2; status=1; }
  fi
  {
    # A granted TimeStampResp starts with SEQUENCE { SEQUENCE { INTEGER 0 …: the bytes 2 1 0,
    # written as a Lua escape (a shell string cannot hold the NUL).
    wrk_check_lua 200 '\2\1\0'
    cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/timestamp-query"
wrk.headers["Authorization"] = "Bearer $key"
local f = io.open("$work/request.tsq", "rb")
wrk.body = f:read("*a")
f:close()
LUA
  } > "$work/post-$alg.lua"
  echo "== POST /tsa?algorithm=$alg — $connections connections, ${duration}s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/post-$alg.lua" \
    "http://127.0.0.1:$port/tsa?algorithm=$alg" | tee "$work/wrk-$alg.out"
  check_wrk_result "$work/wrk-$alg.out" "$min_rps" 1000 "POST /tsa, $alg, $connections connections" || status=1
  echo
done
echo "algorithm requests/s    p50 ms    p99 ms  answers"
for alg in $algorithms; do
  sed -n 's/^RESULT rps=\([^ ]*\) p50_ms=\([^ ]*\) p99_ms=\([^ ]*\) requests=\([0-9]*\).*/\1 \2 \3 \4/p' "$work/wrk-$alg.out" |
    awk -v d="$alg" '{printf "%-9s %11s %9s %9s %8s\n", d, $1, $2, $3, $4}'
done
exit $status
