"""Deterministic, offline simulation of Chinese government portals, with computed ground truth.

Knows nothing of the crawler. See README.md in this folder.
"""
from .model import Portal, TruthReport
from .server import SimServer, serve
from .world import World, WorldError
from .adhoc import ADHOC_FAMILIES, ALL_ADHOC_FAMILIES, POLITE_FAMILIES, PUBLISHER_FAMILIES, AdhocTarget, AdhocWorld, adhoc_world

__all__ = ["World", "WorldError", "Portal", "TruthReport", "serve", "SimServer", "adhoc_world", "AdhocWorld", "AdhocTarget", "ADHOC_FAMILIES",
           "PUBLISHER_FAMILIES", "POLITE_FAMILIES", "ALL_ADHOC_FAMILIES"]
