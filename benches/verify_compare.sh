#!/usr/bin/env bash
# Runs the verification benchmarks (criterion), `openssl speed sm2` and pyHanko's validation
# of the same PDFs in one go, then prints them side by side: token verification as a share
# of the raw signature-verify rate of the same run (Ed25519, P-256, SM2), our raw SM2
# sign/verify rates beside OpenSSL's on this machine, PDF verification beside pyHanko, and
# OFD verification (SM2 seal, GB/T 38540) beside PDF verification, each as a multiple of the
# raw verify time of its seal's algorithm in the same run.
#
# Usage: benches/verify_compare.sh [criterion filter…]
#   PYHANKO_ITERATIONS=N  validations per algorithm for pyHanko (default 50)
#   CARGO_TARGET_DIR      honoured; criterion results, fixtures and the pyHanko venv live under it
#   TOKEN_SHARE_TARGET    token verify rate as % of the raw verify rate, every algorithm (default 90)
#   PDF_RATIO_TARGET      pyHanko's PDF validation time / ours offline (default 10)
# Exits 1 when a target is missed or a figure is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
source benches/lib.sh
target="$(bench_target_dir)"
fixtures="$target/bench-fixtures-verify"
iterations="${PYHANKO_ITERATIONS:-50}"

echo "== cargo bench --bench verify" >&2
rm -rf "$fixtures"
ZHENGZHAO_BENCH_FIXTURES="$fixtures" cargo bench --bench verify -- "$@" >&2

# OpenSSL's SM2 rates right after criterion's, under the same load; no openssl (or one
# without SM2) leaves the comparison out, which is not a miss (it has no target).
echo "== openssl speed -seconds 3 sm2" >&2
openssl speed -seconds 3 sm2 >"$target/openssl-speed-sm2.txt" 2>/dev/null || : >"$target/openssl-speed-sm2.txt"

venv="$(pyhanko_venv "$target")"

echo "== pyHanko, $iterations validations per algorithm" >&2
"$venv/bin/python" benches/pyhanko_validate.py "$fixtures" --iterations "$iterations" >"$target/pyhanko-validate.json"

"$venv/bin/python" - "$target/criterion" "$target/pyhanko-validate.json" "$target/openssl-speed-sm2.txt" <<'PY'
import json
import re
import sys
from functools import partial

sys.path.insert(0, "benches")
import medians  # noqa: E402

criterion_dir, pyhanko_file, openssl_file = sys.argv[1], sys.argv[2], sys.argv[3]
py = json.load(open(pyhanko_file))
ours_ms = partial(medians.ours_ms, criterion_dir)
rate = medians.rate


def ms(v):
    return medians.ms(v, 4)


print()
print(f"pyHanko {py['pyhanko_version']} (Python {py['python']}), {py['iterations']} validations per algorithm")
print()
TOKEN_ALGS = ("ed25519", "p256", "sm2")
print(f"{'token verification':<22} {'raw verify':>14} {'token verify':>14} {'token/raw rate':>15}")
for alg in TOKEN_ALGS:
    raw, tok = ours_ms("raw", f"{alg}_verify"), ours_ms("token_verify", alg)
    share = "—" if raw is None or tok is None else f"{100.0 * raw / tok:13.1f} %"
    print(f"{alg:<22} {rate(raw):>14} {rate(tok):>14} {share:>15}")
print()

# `openssl speed` ends with a table whose SM2 row reads
# " 256 bits SM2 (CurveSM2)   0.0004s   0.0004s   2397.3   2707.7" (sign/s, verify/s last).
openssl = None
with open(openssl_file) as f:
    for line in f:
        m = re.match(r"\s*256 bits SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)\s*$", line)
        if m:
            openssl = {"sign": float(m.group(1)), "verify": float(m.group(2))}
print(f"{'SM2 raw (ops/s)':<22} {'ours (sm2 crate)':>17} {'openssl speed':>14} {'ours/OpenSSL':>13}")
for op in ("sign", "verify"):
    ours = ours_ms("raw", f"sm2_{op}")
    ours_rate = None if ours is None else 1000.0 / ours
    theirs = None if openssl is None else openssl[op]
    ratio = "—" if ours_rate is None or theirs is None else f"{ours_rate / theirs:12.2f}×"
    print(f"{op:<22} {rate(ours):>17} {'—' if theirs is None else f'{theirs:12,.0f}/s':>14} {ratio:>13}")
if openssl is None:
    print("  (no SM2 row from `openssl speed -seconds 3 sm2`: OpenSSL missing or without SM2)")
print()
print(f"{'PDF verification':<22} {'ours offline':>14} {'ours online':>14} {'pyHanko':>14} {'pyHanko/ours':>13}")
for alg in ("ed25519", "p256"):
    off, on = ours_ms("pdf_verify", f"offline_{alg}"), ours_ms("pdf_verify", f"online_{alg}")
    theirs = py[alg]["median_ms"]
    ratio = "—" if off is None else f"{theirs / off:11.1f}×"
    ok = "" if py[alg]["intact_valid_trusted"] else "  (pyHanko did NOT find it intact+trusted!)"
    print(f"{alg:<22} {ms(off):>14} {ms(on):>14} {ms(theirs):>14} {ratio:>13}{ok}")
print()
# OFD beside PDF: each document check as a multiple of one raw verify of its seal's
# algorithm (a PDF report does one seal-signature check plus the token and the chain; an
# OFD report the SES_Signature, the maker's signature on the SES_Seal, the token, chains).
print(f"{'document verification':<22} {'inspect':>12} {'offline':>12} {'online':>12} {'raw verify':>12} {'offline/raw':>12} {'online/raw':>11}")
DOCS = (("PDF ed25519", "pdf_verify", "ed25519"), ("PDF p256", "pdf_verify", "p256"), ("OFD sm2", "ofd_verify", "sm2"))
for label, group, alg in DOCS:
    ins, off, on = (ours_ms(group, f"{m}_{alg}") for m in ("inspect", "offline", "online"))
    raw = ours_ms("raw", f"{alg}_verify")
    times = lambda v: "—" if v is None or raw is None else f"{v / raw:10.1f}×"
    print(f"{label:<22} {ms(ins):>12} {ms(off):>12} {ms(on):>12} {ms(raw):>12} {times(off):>12} {times(on):>11}")
off_ofd, off_pdf = ours_ms("ofd_verify", "offline_sm2"), ours_ms("pdf_verify", "offline_ed25519")
if off_ofd is not None and off_pdf is not None:
    print(f"  OFD (SM2) offline takes {off_ofd / off_pdf:.1f}× the time of PDF (Ed25519) offline")
print()
print("token reports:")
for alg in ("ed25519", "p256"):
    for mode in ("offline", "online"):
        print(f"  token_report/{mode}_{alg:<10} {ms(ours_ms('token_report', f'{mode}_{alg}'))}")

# Targets: token verification at >= TOKEN_SHARE_TARGET % of the raw verify rate, PDF
# verification offline >= PDF_RATIO_TARGET x faster than pyHanko, and pyHanko finding
# the same PDFs intact and trusted. Any miss (or a missing figure) exits 1.
import os
share_target = float(os.environ.get("TOKEN_SHARE_TARGET", "90"))
ratio_target = float(os.environ.get("PDF_RATIO_TARGET", "10"))
misses = []
for alg in TOKEN_ALGS:
    raw, tok = ours_ms("raw", f"{alg}_verify"), ours_ms("token_verify", alg)
    if raw is None or tok is None or 100.0 * raw / tok < share_target:
        misses.append(f"token verify {alg} below {share_target:g} % of the raw verify rate")
for alg in ("ed25519", "p256"):
    off = ours_ms("pdf_verify", f"offline_{alg}")
    if off is None or py[alg]["median_ms"] / off < ratio_target:
        misses.append(f"PDF verify {alg} less than {ratio_target:g}x pyHanko")
    if not py[alg]["intact_valid_trusted"]:
        misses.append(f"pyHanko did not find the {alg} PDF intact and trusted")
# OFD verification has no speed target: its figures must only be there.
for mode in ("offline", "online"):
    if ours_ms("ofd_verify", f"{mode}_sm2") is None:
        misses.append(f"no ofd_verify/{mode}_sm2 figure")
print()
for m in misses:
    print(f"MISSES: {m}")
if misses:
    sys.exit(1)
print(f"meets every target (token >= {share_target:g} % of raw, PDF >= {ratio_target:g}x pyHanko)")
PY
