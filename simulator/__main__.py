"""python -m simulator serve --size small --seed 0 --port 8080 | python -m simulator truth --size small"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from .server import serve
from .world import World


def _size(value: str):
    return int(value) if value.isdigit() else value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulator")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "truth"):
        p = sub.add_parser(name)
        p.add_argument("--size", type=_size, default="small")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--epoch", type=int, default=0)
        if name == "serve":
            p.add_argument("--port", type=int, default=8080)
            p.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    world = World(seed=args.seed, size=args.size, epoch=args.epoch)
    if args.cmd == "truth":
        for report in world.truth:
            sys.stdout.write(json.dumps(dataclasses.asdict(report), ensure_ascii=False) + "\n")
        return 0
    server = serve(world, host=args.host, port=args.port)
    print(f"serving {len(world.portals)} portals; proxy {server.proxy_url}", flush=True)
    for p in world.portals:
        print(f"  {p.family:8} {p.start_url}  {p.agency}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
