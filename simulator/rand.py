"""Stable randomness: every choice is a pure function of the seed and a path of names.

Python's hash() is salted per process, so it is never used; sha256 is.
"""
from __future__ import annotations

import hashlib
import random


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on the parts."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng(*parts: object) -> random.Random:
    """A private generator for one decision, so adding a decision elsewhere changes nothing here."""
    return random.Random(stable_int(*parts))


def chance(p: float, *parts: object) -> bool:
    return (stable_int(*parts) % 10_000) < p * 10_000
