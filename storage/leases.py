"""One run per site at a time, across processes and machines.

Two `nianbao crawl` of one site at once used to share each other's live runs (the second took
the first's `running` run for a dead one and resumed it): half the runs, every file recorded
twice. A crawl now holds the site's lease, a row with an owner and an expiry that the owner's
heartbeat pushes forward. Another crawl of the site is refused while the lease is live; it may
take over (and resume the run left `running`) once the lease expired, or at once when the
owner is a process of this machine that no longer exists (a SIGKILLed crawl, rerun at once).

A mixin of storage.catalogue.Catalogue. Acquiring is one statement that cannot race: an insert
that does nothing when a row exists, then an update that only matches an expired or own row.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import SiteLease, utcnow

DEFAULT_TTL = 60.0


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is a process of this machine that is gone. A process of
    another machine is alive until its lease expires: we cannot look."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Leases:
    """The site_lease statements of the catalogue (mixed into Catalogue)."""

    def acquire_lease(self, *, site_id: str, owner: str, ttl: float = DEFAULT_TTL) -> SiteLease | None:
        """Take the site's lease for owner. None when taken; else the live lease of whoever
        holds it (the caller refuses to crawl)."""
        table = SiteLease.__table__

        def fn(s: Session) -> SiteLease | None:
            now = utcnow()
            expires = now + timedelta(seconds=ttl)
            inserted = s.execute(self._insert(table).values(
                site_id=site_id, owner=owner, run_id=None, acquired_at=now, expires_at=expires)
                .on_conflict_do_nothing(index_elements=["site_id"])).rowcount
            if inserted:
                return None
            holder = s.execute(sa.select(table).where(table.c.site_id == site_id).with_for_update()).first()
            if holder is not None and holder.owner != owner and holder.expires_at > now \
                    and owner_alive(holder.owner):
                return SiteLease(**holder._asdict())
            s.execute(sa.update(table).where(table.c.site_id == site_id)
                      .values(owner=owner, run_id=None, acquired_at=now, expires_at=expires))
            return None

        return self._write("acquire_lease", fn)

    def renew_lease(self, *, site_id: str, owner: str, ttl: float = DEFAULT_TTL, run_id: int | None = None) -> bool:
        """The heartbeat: False when the lease is no longer ours (expired and taken over)."""
        def fn(s: Session) -> bool:
            values = {"expires_at": utcnow() + timedelta(seconds=ttl)}
            if run_id is not None:
                values["run_id"] = run_id
            return bool(s.execute(sa.update(SiteLease).where(SiteLease.site_id == site_id, SiteLease.owner == owner)
                                  .values(**values)).rowcount)

        return self._write("renew_lease", fn)

    def release_lease(self, *, site_id: str, owner: str) -> None:
        self._write("release_lease", lambda s: s.execute(
            sa.delete(SiteLease).where(SiteLease.site_id == site_id, SiteLease.owner == owner)))

    def lease(self, *, site_id: str) -> SiteLease | None:
        return self._read("lease", lambda s: s.get(SiteLease, site_id))


def describe(lease: SiteLease, now: datetime | None = None) -> str:
    """One line for the refusal: who holds it, for which run, when it was last renewed."""
    now = now or utcnow()
    left = max(0, int((lease.expires_at - now).total_seconds()))
    run = f"run {lease.run_id}" if lease.run_id else "a run starting"
    return f"being crawled by {lease.owner} ({run}; lease expires in {left}s unless renewed)"


__all__ = ["DEFAULT_TTL", "Leases", "describe", "owner_alive", "this_owner"]
