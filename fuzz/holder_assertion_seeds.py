"""Writes seeds/holder_assertion/: holder assertions built from the README's description
with Python's `cryptography` (an implementation independent of the platform's), signed by
fresh Ed25519 and P-256 keys for portal `pt_fuzzport`.

    python3 fuzz/holder_assertion_seeds.py   # from the repository root
"""
import base64
import json
import os
import pathlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(alg: str, sign, holder_type: str, holder_code: str) -> str:
    now = 1_790_000_000
    header = {"alg": alg, "typ": "holder-assertion+jwt"}
    claims = {"iss": "pt_fuzzport", "holder_code_type": holder_type, "holder_code": holder_code,
              "acr": "L3-face", "iat": now - 10, "exp": now + 110, "jti": b64(os.urandom(18))}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims, ensure_ascii=False).encode())
    return signing_input + "." + b64(sign(signing_input.encode()))


def main() -> None:
    out = pathlib.Path(__file__).parent / "seeds" / "holder_assertion"
    out.mkdir(parents=True, exist_ok=True)
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())

    def es256(msg: bytes) -> bytes:
        r, s = decode_dss_signature(p256.sign(msg, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    (out / "ed25519-person.txt").write_text(assertion("EdDSA", ed.sign, "111", "310115199003071239"))
    (out / "p256-company.txt").write_text(assertion("ES256", es256, "001", "91310115MA1H7ABC2D"))


if __name__ == "__main__":
    main()
