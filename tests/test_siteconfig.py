"""Site configuration: valid and invalid files, each error naming file, key and problem."""
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.siteconfig import ConfigError, adhoc_site, load_site, load_sites, parse_site

BASE = {"id": "demo", "agency": "某市人民政府", "start_urls": ["http://www.example.gov.cn/"]}


def with_(**kw):
    data = dict(BASE)
    data.update(kw)
    return data


@pytest.mark.parametrize("data", [
    BASE,
    with_(kind="government", region={"name": "江苏省苏州市", "code": "320500"}),
    with_(render="always", schedule="0 3 * * 1", politeness={"delay": 0, "concurrency": 4}),
    with_(allowed_hosts=["www.example.gov.cn", "127.0.0.1:8080", ".example.gov.cn", "*.example.gov.cn"]),
    with_(hints={"cms": "hanweb", "list_patterns": [r"/col/col\d+/"], "directory": True}),
    with_(first_year=2019, budget={"max_pages": 10, "max_depth": 2}),
    with_(verification={"verified": True, "checked_on": "2026-11-01"}),
])
def test_valid(data):
    cfg = parse_site(data)
    assert cfg.id == "demo"
    assert cfg.allowed_hosts


@pytest.mark.parametrize("data,key,fragment", [
    (with_(extra=1), "extra", "unknown key"),
    (with_(id="Bad Id"), "id", "lowercase"),
    (with_(agency=" "), "agency", "empty"),
    (with_(start_urls=[]), "start_urls", "at least 1"),
    (with_(start_urls=["ftp://x.gov.cn/"]), "start_urls", "not an absolute http"),
    (with_(start_urls=["/relative"]), "start_urls", "not an absolute http"),
    (with_(render="sometimes"), "render", "'auto'"),
    (with_(kind="ministry"), "kind", "government"),
    (with_(schedule="every day"), "schedule", "cron"),
    (with_(region={"name": "x", "code": "12345"}), "region.code", "6-digit"),
    (with_(region={"name": "x", "zip": "1"}), "region.zip", "unknown key"),
    (with_(politeness={"delay": -1}), "politeness.delay", "greater than or equal"),
    (with_(politeness={"concurrency": "many"}), "politeness.concurrency", "integer"),
    (with_(allowed_hosts=["http://x.gov.cn/"]), "allowed_hosts", "not a host"),
    (with_(hints={"cms": "wordpress"}), "hints.cms", "hanweb"),
    (with_(hints={"list_patterns": ["("]}), "hints.list_patterns", "regular expression"),
    (with_(first_year=2001), "first_year", "greater than or equal"),
    ([1, 2], "(top level)", "mapping"),
])
def test_invalid_names_key_and_problem(data, key, fragment):
    with pytest.raises(ConfigError) as info:
        parse_site(data, source="sites/demo.yaml")
    problems = info.value.problems
    assert any(f == "sites/demo.yaml" and k == key and fragment in m for f, k, m in problems), problems


def test_bad_yaml_names_line(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("id: demo\nagency: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_site(path)
    (file, where, msg), = info.value.problems
    assert file == str(path) and where.startswith("line ") and "invalid YAML" in msg


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("id: demo\nagency: A局\nstart_urls: [http://a.gov.cn/]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="differs from the file name"):
        load_site(path)


def test_load_sites_collects_every_problem(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nagency: A局\nstart_urls: [http://a.gov.cn/]\nfoo: 1\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("id: b\nagency: B局\nstart_urls: [nope]\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("id: c\nagency: C局\nstart_urls: [http://c.gov.cn/]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sites(tmp_path)
    files = {Path(f).name for f, _, _ in info.value.problems}
    assert files == {"a.yaml", "b.yaml"}


def test_config_hash_changes_with_content():
    assert parse_site(BASE).config_hash() == parse_site(dict(BASE)).config_hash()
    assert parse_site(BASE).config_hash() != parse_site(with_(render="never")).config_hash()


def test_adhoc_site_defaults_like_a_file():
    cfg = adhoc_site(start_url="http://127.0.0.1:8080/index.html", agency="某局")
    assert cfg.render == "auto" and cfg.allowed_hosts == ["127.0.0.1:8080"]
    cfg = adhoc_site(start_url="http://www.a.gov.cn/", agency="某局", allow=["xxgk.a.gov.cn"])
    assert cfg.allowed_hosts == ["xxgk.a.gov.cn"]


def test_shipped_sites_validate():
    sites = load_sites(Path(__file__).parent.parent / "sites")
    assert sites and all(s.verification.verified is False or s.verification.checked_on for s in sites)


def test_cli_exit_code_for_bad_config(tmp_path):
    (tmp_path / "x.yaml").write_text("id: x\nagency: A\nstart_urls: [ftp://x]\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "sites", "validate", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 3
    assert "x.yaml: start_urls:" in proc.stderr
    assert "Traceback" not in proc.stderr
