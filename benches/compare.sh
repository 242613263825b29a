#!/usr/bin/env bash
# Runs the issuing benchmarks (criterion) and pyHanko on the same PDF in one go, then prints them side by side.
#
# Usage: benches/compare.sh [criterion filter…]
#   PYHANKO_ITERATIONS=N  signatures per algorithm for pyHanko (default 50)
#   RENDER_SIGN_TARGET_MS render+sign Ed25519 median target (default 3); the script exits 1 when missed
#   CARGO_TARGET_DIR      honoured; criterion results, fixtures and the pyHanko venv live under it
#
# Steps: `cargo bench --bench issue` (release) with ZHENGZHAO_BENCH_FIXTURES set, so the
# bench writes the unsigned PDF and seal keys/chains it signs; a venv with pyHanko
# (created once: `pip install pyhanko pyhanko-cli`); benches/pyhanko_sign.py on those
# fixtures; a table from target/criterion/<group>/<bench>/new/estimates.json (median, ns).
# The figures are medians on whatever machine runs this: on a shared machine they are noisy.
set -euo pipefail

cd "$(dirname "$0")/.."
source benches/lib.sh
target="$(bench_target_dir)"
fixtures="$target/bench-fixtures"
iterations="${PYHANKO_ITERATIONS:-50}"

echo "== cargo bench --bench issue" >&2
rm -rf "$fixtures"
# Criterion's own report goes to stderr; stdout carries only the table.
ZHENGZHAO_BENCH_FIXTURES="$fixtures" cargo bench --bench issue -- "$@" >&2

venv="$(pyhanko_venv "$target")"

echo "== pyHanko, $iterations signatures per algorithm" >&2
"$venv/bin/python" benches/pyhanko_sign.py "$fixtures" --iterations "$iterations" >"$target/pyhanko-sign.json"

"$venv/bin/python" - "$target/criterion" "$target/pyhanko-sign.json" <<'EOF'
import json
import sys
from functools import partial

sys.path.insert(0, "benches")
from medians import ms, rate, ratio  # noqa: E402
import medians  # noqa: E402

criterion_dir, pyhanko_file = sys.argv[1], sys.argv[2]
py = json.load(open(pyhanko_file))
ours_ms = partial(medians.ours_ms, criterion_dir)


print()
print(f"pyHanko {py['pyhanko_version']} (Python {py['python']}), {py['iterations']} signatures per algorithm,"
      f" unsigned PDF {py['unsigned_bytes']} bytes")
print()
print(f"{'work':<34} {'zhengzhao':>12} {'pyHanko sign':>13} {'pyHanko/ours':>13}")
for alg in ("ed25519", "p256"):
    theirs = py[alg]["median_ms"]
    for label, group in (("render+sign", "render+sign"), ("sign", "sign")):
        ours = ours_ms(group, alg)
        print(f"{label + ' ' + alg:<34} {ms(ours):>12} {ms(theirs):>13} {ratio(theirs, ours):>13}")
print()
print(f"{'rate':<34} {'raw signature':>15} {'PDF sign':>13} {'render+sign':>13} {'raw/PDF sign':>13}")
for alg in ("ed25519", "p256"):
    raw, sign, both = ours_ms("raw", f"{alg}_sign"), ours_ms("sign", alg), ours_ms("render+sign", alg)
    print(f"{alg:<34} {rate(raw):>15} {rate(sign):>13} {rate(both):>13} {ratio(sign, raw):>13}")
print()
print("other medians:")
for group, bench in (("render", "licence_page"), ("render+sign+dss", "ed25519"), ("token", "sign"), ("token", "sign_p256"),
                     ("issue_e2e", "sqlite")):
    print(f"  {group + '/' + bench:<32} {ms(ours_ms(group, bench)):>12}")
target = ours_ms("render+sign", "ed25519")
target_ms = float(__import__("os").environ.get("RENDER_SIGN_TARGET_MS", "3.0"))
if target is None:
    print("\nrender+sign ed25519: no figure (criterion did not run it): MISSES")
    sys.exit(1)
verdict = "meets" if target <= target_ms else "MISSES"
print(f"\nrender+sign ed25519 median {target:.3f} ms {verdict} the {target_ms:g} ms target")
if verdict == "MISSES":
    sys.exit(1)
EOF
