#!/usr/bin/env bash
# 一件事一次办 over HTTP under load: a release `zhengzhao serve` on a fresh data directory
# (SQLite), a one-window client of the demo 政务服务中心 with the four demo departments'
# delegations, and wrk posting the shipped 开办饭店 bundle (five licences of four
# departments, PDF each, plus the signed receipt) for DURATION seconds with CONNECTIONS
# connections, each request with an Idempotency-Key of its own. Every answer must be 201
# naming five licences, and the register must grow by five licences per answered bundle.
# Prints bundles/s, licences/s and the latency percentiles beside the raw Ed25519 signature
# rate of this machine at this moment (`openssl speed -seconds 2 ed25519`), so that the
# figures read as ratios. Exits 1 when a target is missed or an answer was wrong.
# Usage: bash benches/bundle_load.sh [DURATION] [CONNECTIONS]
#   Targets: BUNDLE_TARGET_RPS (bundles/s, default 20) and BUNDLE_TARGET_P99_MS (default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
connections="${2:-2}"
min_rps="${BUNDLE_TARGET_RPS:-20}"
max_p99="${BUNDLE_TARGET_P99_MS:-1000}"
source benches/lib.sh
ensure_wrk
start_fresh_server
centre=12310115MB2C90550M
added=$("$bin" --data "$work/data" client add --department "$centre" --name window --scopes issue)
window_id=$(awk '/^client id:/ {print $3}' <<<"$added")
key=$(awk '/^key:/ {print $2}' <<<"$added")
# The Ed25519 demo seal of a department ("demo seal: ID (ed25519, CODE NAME)").
seal_of() { awk -v code="$1" '$1 == "demo" && $2 == "seal:" && $4 == "(ed25519," && $5 == code {print $3; exit}' "$work/serve.log"; }
example=templates/examples/bundles/open-restaurant.json
for department in 11310115MB2C90510L 11310115MB2C90520M 11310115MB2C90530N 11310115MB2C90540P; do
  types=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(",".join(sorted({l["type_code"] for l in b["licences"] if l["department"]==sys.argv[2]})))' "$example" "$department")
  "$bin" --data "$work/data" delegation add --department "$department" --client "$window_id" \
      --types "$types" --seals "$(seal_of "$department")" > /dev/null
done
body=$(python3 - "$example" "$work/serve.log" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
for line in open(sys.argv[2]):
    m = re.match(r"demo seal:\s+(\S+) \((\w+), (\S+) ", line)
    if m:
        text = text.replace(f"SEAL:{m.group(3)}:{m.group(2)}", m.group(1))
assert "SEAL:" not in text, "a placeholder names no demo seal"
print(json.dumps(json.loads(text), ensure_ascii=False))
PY
)
wrk_post_lua '"bundle_id":"BDL-' "$key" "$body" bundle > "$work/bundle.lua"
raw=$(raw_ed25519_rate)
echo "== raw Ed25519 signatures/s (openssl speed -seconds 2 ed25519): ${raw:-unknown}"
before=$(licence_count)
echo "== bundles of five: $connections connections, ${duration}s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
wrk -t 2 -c "$connections" -d "${duration}s" --latency -s "$work/bundle.lua" \
    "http://127.0.0.1:$port/api/v1/bundles" | tee "$work/wrk.out"
issued=$(( $(licence_count) - before ))
answered=$(sed -n 's/^RESULT .*requests=\([0-9]*\).*/\1/p' "$work/wrk.out")
echo "licences added by the run: $issued ($answered bundles answered)"
status=0
check_wrk_result "$work/wrk.out" "$min_rps" "$max_p99" "bundles of five over HTTP, $connections connections" || status=1
if [ "$issued" -lt $(( 5 * answered )) ] || [ "$issued" -gt $(( 5 * (answered + connections) )) ]; then
  echo "MISSES: the register grew by $issued licences for $answered bundles" >&2
  status=1
fi
sed -n 's/^RESULT rps=\([^ ]*\) p50_ms=\([^ ]*\) p99_ms=\([^ ]*\).*/\1 \2 \3/p' "$work/wrk.out" |
  awk -v raw="${raw:-0}" '{printf "bundles/s %s (licences/s %.0f), median %s ms, p99 %s ms; raw Ed25519 %s signs/s: the server issues one bundle in the time one core makes %.0f raw signatures\n", $1, $1*5, $2, $3, raw, (raw>0 && $1>0) ? raw/$1 : 0}'
exit $status
