"""Expected failures end with a summary and a distinct exit code, never a traceback."""
import socket

from tests.harness import nianbao


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]      # closed again when the block ends: connections are refused


def test_unreachable_portal_gives_summary_not_traceback(tmp_path):
    port = _closed_port()
    proc = nianbao("crawl", "--start-url", f"http://127.0.0.1:{port}/", "--agency", "某局",
                   "--catalogue", f"sqlite:///{tmp_path / 'c.sqlite'}", "--store", (tmp_path / "o").as_uri(),
                   env={"NIANBAO_PROGRESS_INTERVAL": "0"}, timeout=300)
    assert proc.returncode == 1                          # nothing could be done
    assert "Harvest summary" in proc.stdout and "failed" in proc.stdout
    assert "connection_refused" in proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_usage_errors_are_exit_2(tmp_path):
    proc = nianbao("crawl", "--start-url", "http://127.0.0.1:1/")
    assert proc.returncode == 2 and "--agency" in proc.stderr
    proc = nianbao("crawl", "--render", "sometimes", "--all")
    assert proc.returncode == 2
    proc = nianbao("crawl", "nosuchsite", "--sites-dir", str(tmp_path))
    assert proc.returncode == 2 and "unknown site" in proc.stderr


def test_bad_site_dir_is_exit_3(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: bad\nagency: 某局\nstart_urls: [http://x.gov.cn/]\nschedule: nope\n",
                                       encoding="utf-8")
    proc = nianbao("crawl", "--all", "--sites-dir", str(tmp_path))
    assert proc.returncode == 3
    assert "bad.yaml: schedule:" in proc.stderr and "Traceback" not in proc.stderr


def test_unusable_catalogue_is_one_line(tmp_path):
    proc = nianbao("runs", "--catalogue", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    # 6: environment/settings, found by the preflight (crawler/preflight.py)
    assert proc.returncode == 6 and "catalogue" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unusable_store_is_refused_before_the_crawl(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store directory should be")
    proc = nianbao("crawl", "--start-url", "http://127.0.0.1:1/", "--agency", "某局",
                   "--catalogue", f"sqlite:///{tmp_path / 'c.sqlite'}", "--store", (blocker / "objects").as_uri(),
                   timeout=300)
    assert proc.returncode == 6
    assert "settings error: store" in proc.stderr and "Not a directory" in proc.stderr
    assert "Harvest summary" not in proc.stdout and "Traceback" not in proc.stderr + proc.stdout


def test_bad_archive_processes_variable_is_exit_2(tmp_path):
    for value in ("two", "-1"):
        proc = nianbao("crawl", "--start-url", "http://127.0.0.1:1/", "--agency", "某局",
                       env={"NIANBAO_ARCHIVE_PROCESSES": value})
        assert proc.returncode == 2, proc.stderr
        assert f"NIANBAO_ARCHIVE_PROCESSES={value!r}" in proc.stderr and "Traceback" not in proc.stderr
