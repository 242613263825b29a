#!/usr/bin/env python3
"""Independent check of a Zhengzhao QR token with pycose (not our code).

Usage: pycose_verify.py TOKEN_FILE PUBLIC_KEY_FILE

TOKEN_FILE holds the raw COSE_Sign1 bytes (tagged, tag 18); PUBLIC_KEY_FILE the seal's
public key as DER or PEM SubjectPublicKeyInfo (Ed25519 or P-256). Verifies the signature
with pycose, then prints the protected header and the CWT claims as JSON on stdout.
Exit status: 0 when the signature is good, 1 otherwise (bad signature, wrong key type,
unreadable input). Needs: pip install pycose "cbor2<6" (pycose 1.1.0 cannot decode
COSE messages with cbor2 6, which returns arrays as tuples; cryptography comes with pycose).
"""

import datetime
import json
import sys

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pycose.algorithms import EdDSA, Es256
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key, OKPKey
from pycose.keys.curves import P256, Ed25519
from pycose.messages import Sign1Message

# CWT claim keys (RFC 8392) and the private licence claim (src/token/claims.rs).
CWT_NAMES = {1: "iss", 4: "exp", 6: "iat"}
CLAIM_LICENCE = -65537
LICENCE_ID_ROOT = "1.2.156.3005.2."
LICENCE_NAMES = {
    1: "licence_id",
    2: "holder_name",
    3: "holder_code_masked",
    4: "valid_from",
    5: "valid_until",
    6: "record_hash",
}


def load_public_key(data: bytes):
    """SPKI (DER or PEM) -> a pycose key built from the raw key material."""
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
    else:
        key = serialization.load_der_public_key(data)
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return OKPKey(crv=Ed25519, x=raw), EdDSA
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        numbers = key.public_numbers()
        return EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big")), Es256
    raise ValueError(f"unsupported public key type {type(key).__name__}")


def readable(value):
    """CBOR values -> JSON-friendly ones (bytes as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


def claims_json(payload: bytes) -> dict:
    claims = cbor2.loads(payload)
    out = {}
    for key, value in claims.items():
        if key == CLAIM_LICENCE and isinstance(value, dict):
            licence = {}
            for k, v in value.items():
                name = LICENCE_NAMES.get(k, str(k))
                if name == "licence_id" and isinstance(v, str):
                    v = LICENCE_ID_ROOT + v
                elif name in ("valid_from", "valid_until") and isinstance(v, int):
                    # RFC 8943 day count since 1970-01-01.
                    v = (datetime.date(1970, 1, 1) + datetime.timedelta(days=v)).isoformat()
                licence[name] = readable(v)
            out["licence"] = licence
        else:
            out[CWT_NAMES.get(key, str(key))] = readable(value)
    return out


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    try:
        with open(sys.argv[1], "rb") as f:
            token = f.read()
        with open(sys.argv[2], "rb") as f:
            key, key_alg = load_public_key(f.read())
        msg = Sign1Message.decode(token)
        alg = msg.phdr.get(Algorithm)
        if alg is not key_alg and alg != key_alg:
            print(f"algorithm {alg} does not match the {key_alg.fullname} key", file=sys.stderr)
            return 1
        msg.key = key
        good = msg.verify_signature()
    except Exception as e:  # any unreadable input is a failure, reported on stderr
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if not good:
        print("bad signature", file=sys.stderr)
        return 1
    report = {
        "signature": "good",
        "alg": alg.fullname,
        "kid": msg.phdr.get(KID, b"").hex(),
        "claims": claims_json(msg.payload),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
