"""The development farm (../shared/farm-dev, written apart from simulator/), every portal crawled
ad hoc exactly as a new user would: `nianbao crawl --start-url URL --agency NAME --allow HOST...`
with the first manifest agency and the manifest's hosts, default settings, no site file. The
farm's own scorer decides: recall, precision, year and agency accuracy 1.0 and no robots
violation, per portal."""
from __future__ import annotations

import pytest

from tests import farmdev

pytestmark = [pytest.mark.skipif(not farmdev.available(), reason="../shared/farm-dev is not here"),
              pytest.mark.timeout(1800)]

PORTALS = [f"p{i:02d}" for i in range(1, 12)]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("farmdev")
    return farmdev.run(PORTALS, workdir, parallel=3)


@pytest.mark.parametrize("pid", PORTALS)
def test_portal_harvested_completely(scored, pid):
    scores, outcomes = scored
    result = scores[pid]
    row = farmdev.portal_row(result, pid)
    assert outcomes[pid]["returncode"] == 0, (pid, outcomes[pid])
    missed = [m for m in result["missed"] if m["portal"] == pid]
    false = [f for f in result["false_positives"] if f.get("portal") == pid]
    wrong_year = [w for w in result["wrong_year"] if w.get("portal") == pid]
    assert row["recall"] == 1.0, missed
    assert not false, false
    assert row["year_ok"] == row["found"], wrong_year
    assert row["agency_ok"] == row["found"], result["wrong_agency"]
    # The score covers this portal's crawl alone (its own farm, its own request log).
    assert result["robots_violations"] == 0, result["robots_violations_export"]
