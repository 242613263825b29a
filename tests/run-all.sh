#!/usr/bin/env bash
# Runs the whole test suite, first installing what the tests need when it is missing:
# Debian packages (OpenSSL, poppler-utils, qpdf, zbar-tools) and a reachable PostgreSQL.
# Usage: bash tests/run-all.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# --- Debian packages the tests call --------------------------------------------------
need_pkgs=()
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v pdftotext >/dev/null || need_pkgs+=(poppler-utils)
command -v qpdf >/dev/null || need_pkgs+=(qpdf)
command -v zbarimg >/dev/null || need_pkgs+=(zbar-tools)
command -v pg_isready >/dev/null || need_pkgs+=(postgresql-client)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# --- PostgreSQL for the store suite ---------------------------------------------------
export ZHENGZHAO_TEST_POSTGRES_URL="${ZHENGZHAO_TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}"
if pg_isready -q -d "$ZHENGZHAO_TEST_POSTGRES_URL" -t 5; then
  say "PostgreSQL answers at ${ZHENGZHAO_TEST_POSTGRES_URL%%\?*}: the store suite runs on it too"
elif [ -n "${CI:-}" ]; then
  echo "FATAL: CI is set and PostgreSQL does not answer at $ZHENGZHAO_TEST_POSTGRES_URL" >&2
  exit 1
else
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! PostgreSQL does not answer at %s\n' "$ZHENGZHAO_TEST_POSTGRES_URL" >&2
  printf '!!! The PostgreSQL store tests will be SKIPPED (allowed only because CI is unset).\n' >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
  export ZHENGZHAO_TEST_POSTGRES_SKIP=1
fi

# --- The tests ------------------------------------------------------------------------
say "cargo test"
cargo test --locked --all-targets "$@"
