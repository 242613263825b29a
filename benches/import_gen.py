#!/usr/bin/env python3
"""Writes N JSONL lines for `zhengzhao import` (benches/import.sh): the shipped food business
licence example, each line with its own source id, holder name, holder code (a valid
统一社会信用代码, GB 32100) and licence number. Fast: one template, three substitutions.
Usage: import_gen.py N SEAL_ID OUT [DOCUMENT]"""
import json
import sys

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(first17):
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return first17 + ALPHABET[(31 - total % 31) % 31]


def main():
    n, seal, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    document = sys.argv[4] if len(sys.argv) > 4 else "pdf"
    with open("templates/examples/food-business-licence.json", encoding="utf-8") as f:
        licence = json.load(f)
    licence["holder"]["name"] = "@NAME@"
    licence["holder"]["code"] = "@CODE@"
    licence["fields"]["licence_no"] = "@NO@"
    line = {"source_id": "@ID@", "seal_id": seal, "type_code": "11100000000013338W002",
            "document": document, "issued_on": "2021-03-15", "licence": licence}
    template = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    head, rest = template.split("@ID@")
    with open(out, "w", encoding="utf-8", buffering=1 << 20) as f:
        for i in range(1, n + 1):
            f.write(head + f"BENCH-{i:09d}" + rest.replace("@NAME@", f"上海第{i}号餐饮管理有限公司")
                    .replace("@CODE@", uscc(f"913101150{i % 100000000:08d}"))
                    .replace("@NO@", f"JY2{i:013d}") + "\n")


main()
