# Times pyHanko validating the same signed licence PDFs as `cargo bench --bench verify` (pdf_verify/*), in-process.
"""Times pyHanko's validation of the bench fixtures.

The fixtures come from `ZHENGZHAO_BENCH_FIXTURES=DIR cargo bench --bench verify`:
DIR/{ed25519,p256}.pdf, DIR/roots.pem and DIR/crl-<alg>.crl. Each iteration parses
the PDF and validates its signature as our `pdf_verify/offline_<alg>` does: integrity
(byte ranges, digest, CMS signature), the chain to the trusted root, and revocation
from the given CRL, with no network (allow_fetching=False). Prints JSON: per algorithm
the median, min and max in ms per validation, and that the signature came out intact
and trusted.

Usage: python pyhanko_validate.py DIR [--iterations N] [--warmup N]
"""

import argparse
import importlib.metadata
import json
import statistics
import sys
import time
from pathlib import Path

from asn1crypto import crl as asn1_crl
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

ALGORITHMS = ("ed25519", "p256")


def validate_once(path: Path, roots, crls):
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        sig = reader.embedded_signatures[0]
        vc = ValidationContext(trust_roots=roots, crls=crls, allow_fetching=False, revocation_mode="hard-fail")
        status = validate_pdf_signature(sig, vc)
        return status.intact and status.valid and status.trusted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    roots = list(load_certs_from_pemder([str(args.dir / "roots.pem")]))
    crls = [asn1_crl.CertificateList.load((args.dir / f"crl-{a}.crl").read_bytes()) for a in ALGORITHMS]
    result = {
        "pyhanko_version": importlib.metadata.version("pyhanko"),
        "python": sys.version.split()[0],
        "iterations": args.iterations,
    }
    for alg in ALGORITHMS:
        path = args.dir / f"{alg}.pdf"
        ok = False
        for _ in range(args.warmup):
            ok = validate_once(path, roots, crls)
        times = []
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            ok = validate_once(path, roots, crls)
            times.append((time.perf_counter() - t0) * 1000.0)
        result[alg] = {
            "median_ms": statistics.median(times),
            "min_ms": min(times),
            "max_ms": max(times),
            "intact_valid_trusted": ok,
        }
    json.dump(result, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
