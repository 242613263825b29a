#!/usr/bin/env python3
"""Writes the CMS (/Contents) and the signed bytes (/ByteRange) of the first signature of a PDF.

Usage: extract_sig.py FILE.pdf SIG.der SIGNED.bin
Reads the last /ByteRange of the first signed revision with a regular expression: good
enough for the PDFs Zhengzhao writes, not a general PDF parser.
"""
import re
import sys

pdf = open(sys.argv[1], "rb").read()
m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
if not m:
    sys.exit("no /ByteRange")
a, b, c, d = (int(x) for x in m.groups())
hexsig = pdf[a + b + 1 : c - 1]
der = bytes.fromhex(hexsig.decode())
# Strip the zero padding after the DER: read the outer SEQUENCE length.
if der[1] & 0x80:
    n = der[1] & 0x7F
    length = int.from_bytes(der[2 : 2 + n], "big") + 2 + n
else:
    length = der[1] + 2
open(sys.argv[2], "wb").write(der[:length])
open(sys.argv[3], "wb").write(pdf[a : a + b] + pdf[c : c + d])
print(f"ByteRange [{a} {b} {c} {d}], CMS {length} bytes, file {len(pdf)} bytes")
