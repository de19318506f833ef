"""The counts of a crawl run, one vocabulary for the harvest summary, `nianbao runs`, the
README and `--help`. Every number comes from the run's row in the catalogue, so the summary
printed at the end of a crawl and `nianbao runs` afterwards cannot disagree.

    reports = new + changed + unchanged + not due

A report is one report document of a site (the catalogue's `report` row: a report page or a
report file linked on its own, with its attachments). `nianbao coverage` counts publisher ×
year cells: "found" there is the cells with at least one report, so it equals the reports of
the archive unless one agency published two reports for one year. `nianbao export` has one row
per archived object: the files of every run (kind page or attachment) plus what was derived
from them (dom, screenshot, text), so its page and attachment rows of a run are that run's
"files".
"""
from __future__ import annotations

# name -> what it counts; the order is the order of the columns.
COUNTS: dict[str, str] = {
    "pages": "HTML pages fetched this run (lists, navigation, report pages)",
    "reports": "distinct report documents seen this run: new + changed + unchanged + not due",
    "new": "reports archived for the first time this run",
    "changed": "known reports whose bytes changed (a new version is kept beside the old)",
    "unchanged": "known reports asked again and found the same (304 or same sha256)",
    "not due": "known reports still listed but not asked again this run (revisit schedule; "
               "--revisit-all asks them all)",
    "not read": "known reports listed only on list pages this run took from the archive (a list's "
                "further pages once an earlier page holds nothing new: revisit.list_tail_days): "
                "not looked at, still live, not counted in reports",
    "removed": "reports no longer served or listed, marked removed by this (complete) run",
    "files": "files archived this run: pages and attachments, new bytes or revalidated "
             "(export rows of kind page or attachment)",
    "owed": "files meant to be archived and not: the next run fetches them first (nianbao owed)",
}


def legend() -> str:
    """The definitions as one paragraph, for --help texts."""
    return "; ".join(f"{name}: {text}" for name, text in COUNTS.items()) + "."


def run_counts(run) -> dict[str, int]:
    """The counts of one CrawlRun row, by COUNTS name (`not due` as `not_due`)."""
    stats = run.stats or {}
    counts = {
        "pages": run.pages or 0,
        "new": run.new_reports or 0,
        "changed": run.changed_reports or 0,
        "unchanged": run.unchanged_reports or 0,
        # listed, but not revalidated on this run (crawler/revisit.py)
        "not_due": stats.get("nianbao/revisit/reports_not_due", 0),
        # listed on list pages read from the archive, not fetched (crawler/listtail.py)
        "not_read": stats.get("nianbao/recrawl/reports_not_looked_at", 0),
        "removed": run.removed_reports or 0,
        "files": stats.get("nianbao/archived_files", 0),
        # files meant to be archived and not, when the run ended (storage/owed.py)
        "owed": stats.get("nianbao/owed", 0),
    }
    counts["reports"] = counts["new"] + counts["changed"] + counts["unchanged"] + counts["not_due"]
    return counts
