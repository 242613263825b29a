#!/usr/bin/env bash
# Runs the whole test suite, first installing what the tests need when it is missing:
# Debian packages (OpenSSL, poppler-utils, qpdf, zbar-tools, NSS tools, Chromium), a Python venv with
# pyHanko, pycose, gmssl and schemathesis (target/test-venv) and a reachable PostgreSQL.
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
command -v certutil >/dev/null || need_pkgs+=(libnss3-tools)
command -v python3 >/dev/null || need_pkgs+=(python3)
# Headless Chromium renders the verification page (tests/verify_cli.rs).
command -v chromium >/dev/null || need_pkgs+=(chromium)
# A CJK font for Chromium, so the screenshots it saves show the Chinese text (the page
# itself relies on the viewer's fonts; phones have CJK fonts).
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || need_pkgs+=(fonts-wqy-microhei)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# --- Python venv with the independent checkers (tests/external_checks.rs) -------------
# pyHanko validates the signed PDFs, pycose the Ed25519/P-256 QR tokens (pycose 1.1 needs
# cbor2 < 6), gmssl (pure Python) the SM2 ones (tests/sm2_interop.rs), ofdkit reads the
# licence OFDs (tests/ofd_readers.rs), easyofd draws their seal picture (tests/ofd_independent.rs;
# PyMuPDF < 1.27, as 1.27+ pulls in onnxruntime and more, some 100 MB we do not use).
# Rebuildable: delete target/test-venv to start again.
VENV="$PWD/target/test-venv"
if [ ! -x "$VENV/bin/pyhanko" ] || ! "$VENV/bin/python" -c 'import pycose, cbor2, gmssl.sm2, ofdkit, easyofd' >/dev/null 2>&1; then
  if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      say "installing python3-venv"
      rm -rf "$VENV"
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv
      python3 -m venv "$VENV"
    fi
  fi
  say "installing pyHanko, pycose, gmssl, ofdkit and easyofd into $VENV"
  "$VENV/bin/python" -m pip install --quiet pyhanko pyhanko-cli pycose 'cbor2<6' 'gmssl>=3.2.2,<4' 'ofdkit>=0.2,<0.3' \
    'easyofd==20260427' 'pymupdf<1.27'
fi
# schemathesis runs against the live OpenAPI document (tests/openapi_conformance.rs).
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q 'version 4\.'; then
  say "installing schemathesis into $VENV"
  "$VENV/bin/python" -m pip install --quiet 'schemathesis>=4.3,<5'
fi
export ZHENGZHAO_TEST_SCHEMATHESIS="$VENV/bin/schemathesis"
export ZHENGZHAO_TEST_PYHANKO="$VENV/bin/pyhanko"
export ZHENGZHAO_TEST_PYTHON="$VENV/bin/python"

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
# Every test binary runs (--no-fail-fast), and the closing summary is printed whether or
# not tests failed. A test that skips because a tool or server is missing records itself
# in target/tmp/test-skips/ (tests/common/skip.rs; under CI it fails instead): skips are
# listed and counted apart from passes, and any skip fails the run when CI is set.
skips="${CARGO_TARGET_DIR:-$PWD/target}/tmp/test-skips"
rm -rf "$skips"
say "cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked --all-targets --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
read -r passed failed ignored < <(grep -E '^test result' "$log" |
  awk '{p += $4; f += $6; i += $8} END {printf "%d %d %d\n", p, f, i}')
# A test binary that dies (signal, abort) prints no "test result" line: count it as failed.
crashed=$(grep -cE '^error: test failed, to rerun pass' "$log" || true)
died=$(grep -cE 'process didn.t exit successfully' "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$(( crashed > died ? crashed : died )); fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
skipped=0
if [ -d "$skips" ]; then
  skipped=$(cat "$skips"/* 2>/dev/null | wc -l)
fi
if [ "$skipped" -gt 0 ]; then
  printf '\n!!! %d test(s) SKIPPED their checks:\n' "$skipped" >&2
  cat "$skips"/* | sed 's/^/!!!   /' >&2
fi
# A skipped test reports itself to libtest as passed: count it once, as skipped.
passed=$(( passed > skipped ? passed - skipped : 0 ))
printf '\nignored (#[ignore]): %d\n' "$ignored"
printf 'summary: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
if [ "$skipped" -gt 0 ] && [ -n "${CI:-}" ]; then
  echo "FATAL: CI is set and tests were skipped" >&2
  exit 1
fi
