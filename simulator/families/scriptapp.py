"""scriptapp: the script-drawn list of scriptlist (a JSON API read by XMLHttpRequest into a container
named for nothing) in the dressed template (simulator/dress.py): every page also loads 3
stylesheets (one with a web font), 4 scripts, 26 images and a visit counter's XHR. Only a browser
finds the reports; a polite one asks the portal for the list's XHR and each script once, and
for no image or font unless the site wants its requisites."""
from __future__ import annotations

from .common import Site
from .scriptlist import build as build_list


def build(site: Site) -> None:
    build_list(site)
