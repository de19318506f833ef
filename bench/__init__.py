"""Benchmarks of nianbao, outside the test run: `python -m bench [NAME ...]`.

Each prints ratios measured within one run (full crawl against a bare crawl of the same URLs,
nianbao against wget, a recrawl against the first crawl), so a figure holds on a noisy machine.
"""
