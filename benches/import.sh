#!/usr/bin/env bash
# Bulk import benchmark: N licences with PDFs (default 20000) generated from the shipped
# food business licence (benches/import_gen.py), imported by a release `zhengzhao import`
# into a fresh data directory on SQLite or PostgreSQL. Prints the raw Ed25519 sign rate
# first (criterion `raw/ed25519_sign`, per core), then the import's summary (rate, storage
# per licence), its peak RSS (/usr/bin/time -v) and the rate as a share of the raw sign
# rate on all cores. With KILL_AT_HALF=1 (the default) the run is killed with SIGKILL at
# the first progress line that counts half the licences issued or more, then started again
# with the same command; the time from the restart until it issues again is printed, and
# the counts are checked: every source record issued exactly once, serials unique. RAW_BENCH=0 takes `openssl speed ed25519` as
# the raw reference instead of criterion (no bench build). RENDER=on-download stores records
# and tokens only (documents made on first download), to measure that mode's storage.
# Usage: bash benches/import.sh [N] [sqlite|postgres]
#   postgres: ZHENGZHAO_BENCH_POSTGRES_URL (default postgres://root@127.0.0.1:5432/postgres)
#   names the server; a fresh database zz_import_bench_<pid> is made there and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
backend="${2:-sqlite}"
kill_at_half="${KILL_AT_HALF:-1}"
source benches/lib.sh
target=$(bench_target_dir)

cores=$(nproc)
raw_ns=""
if [ "${RAW_BENCH:-1}" = 1 ]; then
  echo "== raw Ed25519 sign rate (cargo bench --bench issue -- raw/ed25519_sign)"
  cargo bench --quiet --bench issue -- 'raw/ed25519_sign' --noplot >/dev/null 2>&1 || true
  raw_ns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' \
    "$target/criterion/raw/ed25519_sign/new/estimates.json" 2>/dev/null || echo "")
else
  # RAW_BENCH=0: OpenSSL's Ed25519 as the reference instead (another implementation).
  echo "== raw Ed25519 sign rate (openssl speed -seconds 2 ed25519; RAW_BENCH=0)"
  per_s=$(raw_ed25519_rate)
  [ -n "$per_s" ] && raw_ns=$(python3 -c "print(1e9/$per_s)")
fi
if [ -n "$raw_ns" ]; then
  raw_rate=$(python3 -c "print(round(1e9/$raw_ns))")
  echo "raw ed25519 sign: ${raw_ns%.*} ns = $raw_rate signatures/s per core, $cores cores"
fi

cargo build --release --quiet --bin zhengzhao
bin="$target/release/zhengzhao"
work=$(mktemp -d)
db=""
cleanup() {
  rm -rf "$work"
  if [ -n "$db" ]; then psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
export ZHENGZHAO_LOG=warn
if [ "$backend" = postgres ]; then
  pg_admin="${ZHENGZHAO_BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"
  db="zz_import_bench_$$"
  psql -q "$pg_admin" -c "CREATE DATABASE $db" >/dev/null
  export ZHENGZHAO_DATABASE_URL="${pg_admin%/*}/$db"
fi

# A platform with the demo department and an Ed25519 seal: on SQLite a short `serve` on the
# fresh directory makes the demo; on PostgreSQL `serve` never makes a demo in a database it
# was pointed at (by design), so the commands do it.
if [ "$backend" = postgres ]; then
  "$bin" --data "$work/data" init --platform-name "证照服务平台（导入基准）" --public-url "http://127.0.0.1:8080" > /dev/null
  "$bin" --data "$work/data" department add --code 11310115MB2C90510L --name 演示市市场监督管理局 --area 310115 > /dev/null
  seal=$("$bin" --data "$work/data" seal create --department 11310115MB2C90510L --name 行政审批专用章 --algorithm ed25519 | tail -1)
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ZHENGZHAO_LOG=info "$bin" --data "$work/data" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
  server=$!
  wait_listening "$work/serve.log"
  seal=$(grep -m1 "demo seal:" "$work/serve.log" | awk '{print $3}')
  kill "$server"; wait "$server" 2>/dev/null || true
fi

echo "== generating $n lines"
python3 benches/import_gen.py "$n" "$seal" "$work/licences.jsonl"
ls -l "$work/licences.jsonl" | awk '{printf "input: %.1f MB\n", $5/1e6}'

render="${RENDER:-now}"
run() { /usr/bin/time -v "$bin" --data "$work/data" import --input "$work/licences.jsonl" --render "$render" > "$work/out.txt" 2> "$work/err.txt"; }
count() {
  if [ "$backend" = postgres ]; then
    psql -tA "$ZHENGZHAO_DATABASE_URL" -c "$1"
  else
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
      "$work/data/zhengzhao.db" "$1"
  fi
}
resume_s=""
if [ "$kill_at_half" = 1 ]; then
  echo "== import, killed with SIGKILL at half"
  "$bin" --data "$work/data" import --input "$work/licences.jsonl" --render "$render" > /dev/null 2> "$work/first.txt" &
  pid=$!
  # The import's own progress lines (every 5 s on a pipe) say how many are stored: asking
  # the database for COUNT(*) five times a second slowed the first half it was watching.
  while kill -0 "$pid" 2>/dev/null; do
    done_n=$(sed -n 's/.* issued \([0-9]*\) skipped.*/\1/p' "$work/first.txt" | tail -1)
    if [ "${done_n:-0}" -ge $((n / 2)) ]; then kill -9 "$pid"; break; fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
  before=$(count "SELECT COUNT(*) FROM import_records")
  echo "killed with $before licences stored"
  echo "== started again with the same command"
  start=$(date +%s.%N)
  run &
  rpid=$!
  while kill -0 "$rpid" 2>/dev/null; do
    now_n=$(count "SELECT COUNT(*) FROM import_records" 2>/dev/null || echo "$before")
    if [ "${now_n:-$before}" -gt "$before" ]; then
      resume_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')"); break
    fi
    sleep 0.05
  done
  wait "$rpid" || true
else
  echo "== import"
  run || true
fi
cat "$work/out.txt"
peak=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/err.txt")
echo "peak RSS: $((peak / 1024)) MB"
[ -n "$resume_s" ] && echo "time from restart until it issues again: ${resume_s} s"
rate=$(awk '/rate:/ {print $2}' "$work/out.txt")
if [ -n "$raw_ns" ] && [ -n "$rate" ]; then
  python3 -c "print(f'import rate / raw ed25519 sign rate on {$cores} cores: {$rate/($raw_rate*$cores):.4f} ({$rate} / {$raw_rate*$cores})')"
fi
licences=$(count "SELECT COUNT(*) FROM licences")
records=$(count "SELECT COUNT(DISTINCT source_id) FROM import_records")
serials=$(count "SELECT COUNT(DISTINCT serial) FROM licences")
echo "register: $licences licences, $records source ids, $serials distinct serials"
if [ "$licences" != "$n" ] || [ "$records" != "$n" ] || [ "$serials" != "$n" ]; then
  echo "MISSES: expected $n of each" >&2
  exit 1
fi
