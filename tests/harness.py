"""Run real crawls of the simulated portals the way a user would: site YAML files on disk,
`nianbao crawl` in a subprocess, every request through the simulator's proxy on loopback."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Harvest:
    catalogue_url: str
    store_url: str
    sites_dir: Path
    proc: subprocess.CompletedProcess


def write_sites(world, directory: Path, *, families: set[str] | None = None, overrides: dict | None = None) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    families_by_id = {p.site_id: p.family for p in world.portals}
    ids = []
    for cfg in world.site_configs():
        if families and families_by_id[cfg["id"]] not in families:
            continue
        cfg = dict(cfg)
        cfg.update(overrides or {})
        (directory / f"{cfg['id']}.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        ids.append(cfg["id"])
    return ids


def nianbao(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=full_env, timeout=timeout)


def harvest(world, server, tmp_path: Path, *, families: set[str] | None = None, extra: list[str] = (),
            overrides: dict | None = None, data: Path | None = None, env: dict | None = None,
            timeout: float = 600) -> Harvest:
    data = data or (tmp_path / "data")
    sites_dir = tmp_path / "sites"
    write_sites(world, sites_dir, families=families, overrides=overrides)
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    proc = nianbao("crawl", "--all", "--sites-dir", str(sites_dir), "--proxy", server.proxy_url,
                   "--catalogue", catalogue_url, "--store", store_url, *extra, env=env, timeout=timeout)
    return Harvest(catalogue_url, store_url, sites_dir, proc)
