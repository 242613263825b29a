#!/usr/bin/env bash
# External validator checks of Zhengzhao licence PDFs (see README.md beside this file).
#
# Usage: check.sh DIR PORT
#   DIR holds what the fixture generator writes: unsigned.pdf, signed-{ed25519,p256}.pdf,
#   dss-{ed25519,p256}.pdf, tampered-{ed25519,p256}.pdf, root-ALG.pem, crl-ALG.crl; the seal
#   certificates name http://127.0.0.1:PORT/crl-ALG.crl as CRL distribution point.
# Needs: pyhanko (PYHANKO=path, default: pyhanko on PATH), poppler-utils, qpdf, zbar-tools,
# libnss3-tools, openssl, python3. Exits non-zero on the first failed check.
set -euo pipefail
DIR=${1:?DIR}
PORT=${2:?PORT}
PYHANKO=${PYHANKO:-pyhanko}
QR_URL=${QR_URL:-https://zhengzhao.example.gov.cn/v/1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F}
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$DIR" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
sleep 1

for alg in ed25519 p256; do
  for f in signed dss; do
    [ -f "$DIR/$f-$alg.pdf" ] || continue
    out=$("$PYHANKO" sign validate --trust "$DIR/root-$alg.pem" --trust-replace "$DIR/$f-$alg.pdf" 2>&1 || true)
    echo "$out" | grep -q ':INTACT:TRUSTED' || fail "pyhanko $f-$alg: $out"
    pass "pyhanko $f-$alg: $(echo "$out" | grep ':INTACT:' | cut -d: -f3-)"
  done
  if [ -f "$DIR/dss-$alg.pdf" ]; then
    out=$("$PYHANKO" sign validate --pretty-print --trust "$DIR/root-$alg.pem" --trust-replace "$DIR/dss-$alg.pdf" 2>&1 || true)
    echo "$out" | grep -q 'signature maintenance' || fail "pyhanko dss-$alg modifications: $out"
    pass "pyhanko dss-$alg: later revision is signature maintenance only"
  fi
  out=$("$PYHANKO" sign validate --trust "$DIR/root-$alg.pem" --trust-replace "$DIR/tampered-$alg.pdf" 2>&1 || true)
  echo "$out" | grep -q ':INTACT:' && fail "pyhanko accepted tampered-$alg: $out"
  pass "pyhanko tampered-$alg rejected: $(echo "$out" | head -1 | cut -d: -f3-)"
done

# P-256 with NSS (pdfsig) and OpenSSL; Ed25519 is supported by neither yet.
NSS=$(mktemp -d)
certutil -N -d "sql:$NSS" --empty-password
certutil -A -d "sql:$NSS" -n root -t "CT,C,C" -i "$DIR/root-p256.pem"
out=$(pdfsig -nssdir "sql:$NSS" "$DIR/signed-p256.pdf" 2>&1 || true)
echo "$out" | grep -q 'Signature is Valid' || fail "pdfsig: $out"
pass "pdfsig signed-p256: $(echo "$out" | grep -E 'Signature Validation|Certificate Validation' | tr '\n' ' ')"
if ! echo "$out" | grep -q 'Certificate is Trusted'; then
  echo "note: NSS trusts the seal certificate only if its EKU also allows emailProtection (or has no EKU)"
  [ -n "${REQUIRE_NSS_TRUST:-}" ] && fail "pdfsig does not trust the certificate"
fi
rm -rf "$NSS"
TMP=$(mktemp -d)
python3 "$HERE/extract_sig.py" "$DIR/signed-p256.pdf" "$TMP/sig.der" "$TMP/signed.bin" >/dev/null
openssl cms -verify -inform DER -in "$TMP/sig.der" -content "$TMP/signed.bin" -binary \
  -CAfile "$DIR/root-p256.pem" -purpose any -out /dev/null 2>"$TMP/err" || fail "openssl cms: $(cat "$TMP/err")"
pass "openssl cms -verify signed-p256"

for f in unsigned signed-ed25519 signed-p256 dss-ed25519 dss-p256; do
  pdf="$DIR/$f.pdf"
  [ -f "$pdf" ] || continue
  qpdf --check "$pdf" >"$TMP/qpdf" 2>&1 || fail "qpdf $f: $(cat "$TMP/qpdf")"
  grep -q 'No syntax or stream encoding errors' "$TMP/qpdf" || fail "qpdf $f: $(cat "$TMP/qpdf")"
  size=$(stat -c %s "$pdf")
  pass "qpdf --check $f ($size bytes)"
done
text=$(pdftotext "$DIR/signed-ed25519.pdf" -)
for want in 食品经营许可证 经营者名称 经营项目 上海浦江美食餐饮管理有限公司 "Food Business License" 91310115MA1H7ABC2X \
  上海市浦东新区市场监督管理局 2026年11月22日 扫码核验 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F; do
  echo "$text" | grep -qF "$want" || fail "pdftotext lacks $want"
done
pass "pdftotext has title, labels, values, issuer, date and identifier"
pdffonts "$DIR/signed-ed25519.pdf" | grep -qE '^[A-Z]{6}\+WenQuanYiMicroHei +CID TrueType +Identity-H +yes +yes +yes' \
  || fail "pdffonts: $(pdffonts "$DIR/signed-ed25519.pdf")"
pass "pdffonts: subset embedded with ToUnicode"
pdftoppm -r 150 -png "$DIR/signed-ed25519.pdf" "$TMP/page"
qr=$(zbarimg --raw --nodbus -q "$TMP"/page*.png)
[ "$qr" = "$QR_URL" ] || fail "zbarimg read '$qr'"
pass "zbarimg at 150 dpi reads the QR URL"
size=$(stat -c %s "$DIR/signed-ed25519.pdf")
[ "$size" -le 42000 ] || fail "signed PDF is $size bytes"
pass "signed PDF size $size bytes"
rm -rf "$TMP"
echo "all PDF checks passed"
