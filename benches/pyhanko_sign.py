# Times pyHanko signing the same unsigned licence PDF as `cargo bench --bench issue` (sign/*), in-process.
"""Times pyHanko's PAdES signing of the bench fixtures, one key per algorithm.

The fixtures come from `ZHENGZHAO_BENCH_FIXTURES=DIR cargo bench --bench issue`:
DIR/unsigned.pdf and DIR/<alg>/{seal-key.pem,seal-cert.pem,root.pem} for alg in
ed25519, p256. Each iteration parses the PDF and appends one PAdES signature
(field Sig1, /ETSI.CAdES.detached, seal certificate and root embedded), like our
`sign/<alg>` bench does (which also draws a visible seal widget; pyHanko's field is
invisible). Prints JSON: per algorithm the median, min and max in ms per signature.

Usage: python pyhanko_sign.py DIR [--iterations N] [--warmup N]
"""

import argparse
import importlib.metadata
import io
import json
import statistics
import sys
import time
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

ALGORITHMS = ("ed25519", "p256")


def sign_once(pdf: bytes, signer: signers.SimpleSigner) -> bytes:
    """Parses `pdf`, signs it as PAdES in field Sig1, returns the signed bytes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=SigSeedSubFilter.PADES)
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


def time_algorithm(pdf: bytes, alg_dir: Path, iterations: int, warmup: int) -> dict:
    """Loads the seal key and chain from `alg_dir` and times `iterations` signatures."""
    signer = signers.SimpleSigner.load(
        key_file=str(alg_dir / "seal-key.pem"),
        cert_file=str(alg_dir / "seal-cert.pem"),
        ca_chain_files=(str(alg_dir / "root.pem"),),
        key_passphrase=None,
    )
    if signer is None:
        raise SystemExit(f"pyHanko could not load the key or certificates in {alg_dir}")
    signed = b""
    for _ in range(warmup):
        signed = sign_once(pdf, signer)
    samples_ms = []
    for _ in range(iterations):
        start = time.perf_counter()
        signed = sign_once(pdf, signer)
        samples_ms.append((time.perf_counter() - start) * 1000.0)
    return {
        "median_ms": round(statistics.median(samples_ms), 3),
        "min_ms": round(min(samples_ms), 3),
        "max_ms": round(max(samples_ms), 3),
        "signed_bytes": len(signed),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path, help="directory written with ZHENGZHAO_BENCH_FIXTURES")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    pdf = (args.fixtures / "unsigned.pdf").read_bytes()
    result = {
        "pyhanko_version": importlib.metadata.version("pyhanko"),
        "python": sys.version.split()[0],
        "iterations": args.iterations,
        "unsigned_bytes": len(pdf),
    }
    for alg in ALGORITHMS:
        result[alg] = time_algorithm(pdf, args.fixtures / alg, args.iterations, args.warmup)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
