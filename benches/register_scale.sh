#!/usr/bin/env bash
# Loads a million licences into SQLite and PostgreSQL, times lookups by identifier and by
# holder (p50/p99), and drives POST /api/v1/checks over loopback HTTP with wrk; prints a
# summary table (benches/register_scale.rs does the work and says how).
#
# Usage: benches/register_scale.sh [rows]        (default 1000000; e.g. 20000 for a quick run)
#   ZHENGZHAO_TEST_POSTGRES_URL   PostgreSQL to use (default postgres://root@127.0.0.1:5432/test);
#                                 the run makes a schema of its own there and drops it
#   ZHENGZHAO_SCALE_BACKENDS      sqlite,postgres (default both)
#   ZHENGZHAO_SCALE_HTTP_BACKENDS backends served over HTTP (default sqlite)
#   ZHENGZHAO_SCALE_*             further settings: see the top of benches/register_scale.rs
#   CARGO_TARGET_DIR              honoured
#
# Needs wrk (installed with apt-get when missing and running as root) and about 6 GB of free
# disk for a million rows on SQLite (in $TMPDIR, or ZHENGZHAO_SCALE_DIR). Takes ~15 minutes
# for a million rows on 2 cores. Everything it makes is removed at the end, failed runs included.
set -euo pipefail

cd "$(dirname "$0")/.."
rows="${1:-1000000}"
export ZHENGZHAO_TEST_POSTGRES_URL="${ZHENGZHAO_TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}"
export ZHENGZHAO_SCALE_SCHEMA="zz_scale_$$"

if ! command -v wrk >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "== installing wrk" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
    else
        echo "wrk is missing: install it (apt-get install wrk) and run again" >&2
        exit 1
    fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/zz-scale.XXXXXX")"
cleanup() {
    rm -rf "$work"
    # The bench drops its schema itself; this catches a run that died half-way.
    if [[ ",${ZHENGZHAO_SCALE_BACKENDS:-postgres}," == *",postgres,"* ]] && command -v psql >/dev/null; then
        psql -q "$ZHENGZHAO_TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $ZHENGZHAO_SCALE_SCHEMA CASCADE" \
            >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== cargo bench --bench register_scale ($rows rows, files in $work)" >&2
ZHENGZHAO_SCALE_ROWS="$rows" ZHENGZHAO_SCALE_DIR="$work" cargo bench --bench register_scale
