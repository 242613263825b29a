#!/usr/bin/env bash
# Availability under a public flood: a release `zhengzhao serve` on a fresh data directory
# (SQLite); issuing (2 clients) alone for SECONDS, then issuing again while CONNECTIONS
# connections from SOURCES loopback addresses (127.0.0.2, 127.0.0.3, …, so that the
# per-address rate limit does not hold them back) flood `/v/{token}`. Target: issuing keeps
# ≥ 70 % of its unloaded rate. Then `/v/` latency while KEYS distinct client addresses
# arrive (through a trusted proxy at 127.0.0.1, each named by X-Forwarded-For).
# All traffic goes to 127.0.0.1. Exits non-zero when a target is missed or an answer is wrong.
# Usage: bash benches/flood_load.sh [SECONDS] [CONNECTIONS] [SOURCES] [KEYS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-200}"
sources="${3:-20}"
keys="${4:-200000}"
source benches/lib.sh
cargo build --release --quiet --bench flood
flood=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/flood-* | grep -v '\.d$' | head -1)
# The flood needs more file descriptors than the default 1024 on the client side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_fresh_server ZHENGZHAO_TRUSTED_PROXIES=127.0.0.1 ZHENGZHAO_LOG=warn
key=$("$bin" --data "$work/data" client add --department 11310115MB2C90510L --name flood --scopes issue | awk '/^key:/ {print $2}')
python3 -c 'import json,sys; print(json.dumps({"seal_id": sys.argv[1], "type_code": "11100000000013338W002", "licence": json.load(open("templates/examples/food-business-licence.json"))}))' "$seal" > "$work/body.json"
# One licence to flood the page of.
url=$(curl -sf -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: flood-page-$$" --data @"$work/body.json" "http://127.0.0.1:$port/api/v1/licences" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
page="/v/${url##*/v/}"
echo "== issuing alone, then under a /v/ flood ($seconds s each; $connections connections from $sources addresses)"
status=0
"$flood" issue "http://127.0.0.1:$port" "$key" "$work/body.json" "$page" "$seconds" "$connections" "$sources" || status=1
echo "== /v/ latency while $keys distinct client addresses arrive"
"$flood" keys "http://127.0.0.1:$port" "$page" "$keys" 8 || status=1
exit "$status"
