#!/usr/bin/env python3
"""Independent check of a Zhengzhao SM2 QR token with the pure-Python gmssl package (not our code).

Usage: gmssl_verify.py TOKEN_FILE PUBLIC_POINT_HEX

TOKEN_FILE holds the raw COSE_Sign1 bytes (tagged, tag 18); PUBLIC_POINT_HEX is the seal's
SM2 public key as the hex of its uncompressed point (04 || x || y, 130 hex digits). The
script follows the README ("SM2 QR tokens") and nothing else: it reads the COSE_Sign1 with
cbor2, requires alg -65600 in the protected header, builds the COSE Sig_structure
["Signature1", protected, h'', payload] with cbor2, and has gmssl verify the 64-byte r || s
signature as SM2 over SM3(Z || Sig_structure), Z with gmssl's fixed ID 1234567812345678.
Prints {"signature": "good", "alg", "kid", "sig_structure"} as JSON on stdout.
Exit status: 0 when the signature is good, 1 otherwise (bad signature, another algorithm,
unreadable input). Needs: pip install gmssl "cbor2<6".

gmssl 3.2.2 mangles some keys: its CryptSM2 constructor does
`public_key.lstrip("04") if public_key.startswith("04")`, which strips every leading '0'
and '4' hex digit, not the one 04 prefix byte. Given x || y without the prefix (as its
documentation says), about one key in 256 (x beginning with the byte 04) loses digits and
no signature verifies. The gmssl-fix fork mends that line; this script keeps the
maintained gmssl and undoes the damage instead: after construction it sets the key to
x || y again (noting it on stderr). Only the input handling is bypassed: Z, SM3 and the
curve arithmetic are gmssl's own.
"""

import json
import sys

import cbor2
from gmssl import sm2

COSE_SIGN1_TAG = 18
# The private-use COSE algorithm of SM2-with-SM3 tokens (src/signing/alg.rs).
ALG_SM2_SM3 = -65600
HEADER_ALG, HEADER_KID = 1, 4


def sig_structure(token: bytes):
    """The COSE_Sign1 items and the Sig_structure its signature covers (RFC 9052 §4.4)."""
    tagged = cbor2.loads(token)
    if not isinstance(tagged, cbor2.CBORTag) or tagged.tag != COSE_SIGN1_TAG:
        raise ValueError("not a tagged COSE_Sign1")
    items = tagged.value
    if not isinstance(items, list) or len(items) != 4:
        raise ValueError("COSE_Sign1 is not an array of 4 items")
    protected, _unprotected, payload, signature = items
    if not all(isinstance(x, bytes) for x in (protected, payload, signature)):
        raise ValueError("protected header, payload or signature is not a byte string")
    header = cbor2.loads(protected)
    if header.get(HEADER_ALG) != ALG_SM2_SM3:
        raise ValueError(f"alg {header.get(HEADER_ALG)} is not SM2-with-SM3 ({ALG_SM2_SM3})")
    if len(signature) != 64:
        raise ValueError(f"signature of {len(signature)} bytes, not r || s (64)")
    signed = cbor2.dumps(["Signature1", protected, b"", payload])
    return header, signed, signature


def gmssl_verifier(point_hex: str) -> sm2.CryptSM2:
    """A gmssl verifier for the uncompressed point, with x || y as gmssl expects it."""
    point = point_hex.strip().lower()
    bytes.fromhex(point)  # refuse non-hex
    if len(point) != 130 or not point.startswith("04"):
        raise ValueError("the public key must be an uncompressed point: 04 || x || y, 130 hex digits")
    xy = point[2:]
    crypt = sm2.CryptSM2(public_key=xy, private_key="", asn1=False)
    if crypt.public_key != xy:
        print(f"note: gmssl stripped {xy[:4]}... to {crypt.public_key[:4]}...; x || y restored", file=sys.stderr)
        crypt.public_key = xy
    return crypt


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    try:
        with open(sys.argv[1], "rb") as f:
            header, signed, signature = sig_structure(f.read())
        crypt = gmssl_verifier(sys.argv[2])
        good = crypt.verify_with_sm3(signature.hex(), signed)
    except Exception as e:  # any unreadable input is a failure, reported on stderr
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if not good:
        print("bad signature", file=sys.stderr)
        return 1
    kid = header.get(HEADER_KID, b"")
    report = {"signature": "good", "alg": ALG_SM2_SM3, "kid": kid.hex(), "sig_structure": signed.hex()}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
