"""Criterion medians and their formatting, for the bench scripts' side-by-side tables."""

import json
import os


def ours_ms(criterion_dir, group, bench):
    """Criterion's median for group/bench in ms, or None if that bench did not run."""
    path = os.path.join(criterion_dir, group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e6
    except FileNotFoundError:
        return None


def ms(v, digits=3):
    return "—" if v is None else f"{v:9.{digits}f} ms"


def rate(v):
    return "—" if v is None else f"{1000.0 / v:11,.0f}/s"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:6.1f}×"
