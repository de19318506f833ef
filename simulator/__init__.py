"""Deterministic, offline simulation of Chinese government portals, with computed ground truth.

Knows nothing of the crawler. See README.md in this folder.
"""
from .model import Portal, TruthReport
from .server import SimServer, serve
from .world import World, WorldError

__all__ = ["World", "WorldError", "Portal", "TruthReport", "serve", "SimServer"]
