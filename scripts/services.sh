#!/usr/bin/env bash
# Make sure the services the tests use are running: PostgreSQL and Redis on loopback,
# and Debian's Chromium on disk. Idempotent; safe to run on every `make test`.
set -u
have_root() { [ "$(id -u)" = 0 ]; }

# Chromium draws pages; a CJK font makes the archived screenshots readable (without one every
# Chinese character of a permanent screenshot is a box).
missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
fc-list :lang=zh 2>/dev/null | grep -q . || missing="$missing fonts-noto-cjk"
if [ -n "$missing" ]; then
  if have_root; then
    echo "installing Debian $missing" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null
  else
    echo "warning: $missing missing and not root (apt-get install $missing): browser tests will fail," \
         "and crawls archive no screenshots" >&2
  fi
fi

# `make run` needs the browser and the font, not the test databases.
[ "${1:-}" = "--browser-only" ] && exit 0

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
exit 0
