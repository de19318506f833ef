"""Scrapy settings for nianbao. The runner overlays per-run values (store, catalogue,
politeness slots, render mode) on these; `scrapy crawl reports -a site=ID` uses them as is."""
from crawler import __version__

BOT_NAME = "nianbao"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = f"Mozilla/5.0 (compatible; nianbao/{__version__}; archival crawler of open-government annual reports)"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control: an HTTP server per crawler that runs code sent to it. An archive
# needs no such door (nor 50 servers starting for a 50-site harvest).
REMOTE_CONTROL_ENABLED = False

CONCURRENT_REQUESTS = 16
# Items processed at once per response. Scrapy starts this many worker tasks for every callback
# output (default 100); a page yields a handful of items, so 100 tasks per page was pure overhead.
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024      # oversized files are aborted cleanly and recorded
# ...and so are gzip/deflate/br bombs: Scrapy 2.11.1+ applies DOWNLOAD_MAXSIZE (and WARNSIZE) to the
# decompressed body, inflating in 64 KiB steps (tests/test_inflate.py pins it). What report files
# hold inside (zip members, PDF streams) is bounded by crawler/inflate.py.
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 10
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DNS_RETRY_TIMES = 1           # an unresolvable host: one more try, then none for that host this run

# A report page repeated under tracking parameters is one URL to us.
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"

DOWNLOADER_MIDDLEWARES = {
    # First: nothing outside the site's hosts is asked for, a redirect's target included.
    "crawler.middlewares.ScopeMiddleware": 50,
    # robots.txt once a day per host, kept beside the archive (crawler/robotscache.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robotscache.CachedRobotsTxtMiddleware": 100,
    "crawler.middlewares.ProxyMiddleware": 740,      # before HttpProxyMiddleware (750)
    # Sees answers after cookies (700) and decompression (590) are applied: a JS challenge
    # goes to the browser, its cookies come back on a plain retry.
    "crawler.rendering.ChallengeMiddleware": 580,
    # Known URLs are revalidated; a 304 becomes the archived answer for the spider.
    "crawler.conditional.ConditionalMiddleware": 900,
    # Next to the downloader: records exchanges as the server sent them, redirects included.
    "crawler.warcmiddleware.WarcMiddleware": 950,
    # Scrapy's retries, but a host that does not resolve is asked once more, not RETRY_TIMES
    # more, and each failure's hosts are kept for the summary (crawler/retrying.py).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retrying.RetryMiddleware": 550,
}
ITEM_PIPELINES = {
    # No screenshot is archived once Chromium is known to draw Chinese as boxes (crawler/fontprobe.py).
    "crawler.fontprobe.ScreenshotGate": 290,
    "crawler.pipelines.ArchivePipeline": 300,
}
# Processes that archive files (hash, store, catalogue) beside the crawl, shared by every site of
# the process; 0 archives in threads of the crawl process instead (crawler/archiving.py says why).
NIANBAO_ARCHIVE_PROCESSES = 1
EXTENSIONS = {
    "crawler.progress.Progress": 500,
    "crawler.schedule.RunTimezone": 510,     # the schedule's zone kept with the run
}

# Rendering through scrapy-playwright with the OS Chromium, for `scrapy crawl` as for `nianbao crawl`
# (the browser itself starts only when a request asks for it).
from crawler.rendering import playwright_settings as _playwright_settings  # noqa: E402

_PLAYWRIGHT = _playwright_settings(proxy=None)
DOWNLOAD_HANDLERS = _PLAYWRIGHT["DOWNLOAD_HANDLERS"]
PLAYWRIGHT_BROWSER_TYPE = _PLAYWRIGHT["PLAYWRIGHT_BROWSER_TYPE"]
PLAYWRIGHT_BROWSER_PROVIDER = _PLAYWRIGHT["PLAYWRIGHT_BROWSER_PROVIDER"]
PLAYWRIGHT_LAUNCH_OPTIONS = _PLAYWRIGHT["PLAYWRIGHT_LAUNCH_OPTIONS"]
PLAYWRIGHT_MAX_CONTEXTS = _PLAYWRIGHT["PLAYWRIGHT_MAX_CONTEXTS"]
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = _PLAYWRIGHT["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"]
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = _PLAYWRIGHT["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"]

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Items in log lines by URL, kind and reason: Scrapy's own formatter prints a dropped item whole, body included.
LOG_FORMATTER = "crawler.logs.ShortLogFormatter"

# nianbao's own settings (NIANBAO_*); the runner fills these from env.py and the command line.
NIANBAO_STORE = None          # object store URL; None: env.store_url()
NIANBAO_CATALOGUE = None      # SQLAlchemy URL; None: env.catalogue_url()
NIANBAO_PROXY = None          # explicit proxy for every request; None: standard env variables
NIANBAO_RENDER = None         # override of every site's render mode
NIANBAO_PROGRESS_INTERVAL = 10.0
NIANBAO_DISK_QUEUE = True     # frontier on disk (a throwaway JOBDIR per run), not in memory
# ...past its first NIANBAO_QUEUE_IN_MEMORY requests per priority (crawler/queues.py)
SCHEDULER_DISK_QUEUE = "crawler.queues.SpillingLifoQueue"
NIANBAO_QUEUE_IN_MEMORY = 1000
NIANBAO_CONDITIONAL = True    # If-None-Match / If-Modified-Since for URLs already archived
NIANBAO_REVISIT_ALL = False   # True: every known report page and file is due (see crawler/revisit.py)
NIANBAO_STORE_OUTAGE_WAIT = 300.0   # seconds a run waits in all for the object store, then stops
NIANBAO_LEASE_TTL = 60.0            # seconds a crawl's lease on its site outlives its last heartbeat
NIANBAO_WARC = True           # write every exchange to rolling WARC files in the object store
NIANBAO_WARC_MAX_BYTES = 256 * 1024 * 1024
NIANBAO_WARC_TMP_DIR = None
