"""Whether the operator asked this process to stop (Ctrl-C, SIGTERM from a scheduler).

Set by the crawl process's signal handler (crawler/runner.py) before Scrapy's own graceful
shutdown starts; read by what would otherwise keep a stopping crawl waiting: the pipeline's
patience with an object store that is down gives up at once, so one Ctrl-C stops a run within
seconds even during an outage, and its files are owed rather than waited for.
"""
from __future__ import annotations

import threading

requested = threading.Event()
