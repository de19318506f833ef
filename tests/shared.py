"""Where ../shared is: beside this checkout, else beside the repository it was cloned from (CI tests
a clean clone made elsewhere on the same machine), else NIANBAO_SHARED. The development sets are
read from there, never copied into the project."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _origin() -> Path | None:
    try:
        url = subprocess.run(["git", "-C", str(ROOT), "config", "remote.origin.url"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(url.removeprefix("file://")) if url and "://" not in url.removeprefix("file://") else None
    return path if path is not None and path.is_dir() else None


def shared_dir() -> Path:
    candidates = [Path(os.environ["NIANBAO_SHARED"])] if os.environ.get("NIANBAO_SHARED") else []
    candidates.append(ROOT.parent / "shared")
    origin = _origin()
    if origin is not None:
        candidates.append(origin.parent / "shared")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = shared_dir()
