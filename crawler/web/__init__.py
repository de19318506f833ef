"""The web UI and the JSON feed for parsers (FastAPI, server-rendered Jinja2; no build chain)."""
from crawler.web.app import create_app

__all__ = ["create_app"]
