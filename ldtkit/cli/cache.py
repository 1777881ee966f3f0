"""``ldtkit cache info|clear|prune``: look at, empty or shrink the results cache.

The cache is the folder of ``$LDTKIT_CACHE`` (default ``.ldtkit-cache``) unless ``--cache DIR``
names another; its layout is documented in ``docs/cache.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ldtkit.cli.args import Subparsers, positive


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit cache`` and its actions."""
    p = subparsers.add_parser("cache", help="show, clear or prune the results cache")
    actions = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="list the cache's entries, their sizes and when they were last used")
    info.add_argument("--json", action="store_true", help="print the entries as JSON")
    clear = actions.add_parser("clear", help="remove every entry (entries a running computation holds stay)")
    prune = actions.add_parser("prune", help="remove old-format files and the least recently used entries beyond the size limit")
    prune.add_argument("--max-mb", type=positive(float), metavar="MB", help="size limit in MB (default: $LDTKIT_CACHE_MAX_MB, else 2048)")
    for a in (info, clear, prune):
        a.add_argument("--cache", metavar="DIR", help="the cache folder (default: $LDTKIT_CACHE, else .ldtkit-cache)")
        a.set_defaults(func=cache_command)
    return p


def cache_command(args: argparse.Namespace) -> int:
    """Run ``ldtkit cache <action>``; exit code 0."""
    from ldtkit.study.cache import ResultCache
    from ldtkit.study.runner import DEFAULT_CACHE

    cache = ResultCache(Path(args.cache) if args.cache else DEFAULT_CACHE)
    if args.cache_command == "info":
        entries = cache.entries()
        total = sum(e.size_bytes for e in entries)
        if args.json:
            print(json.dumps({"folder": str(cache.root), "max_mb": cache.max_mb, "size_mb": total / 1e6, "entries": [
                {"key": e.key, "kind": e.kind, "label": e.label, "size_mb": e.size_bytes / 1e6, "last_used": e.last_used,
                 "format": e.format} for e in entries]}, indent=1))  # fmt: skip
            return 0
        print(f"{cache.root}: {len(entries)} entries, {total / 1e6:.1f} MB of {cache.max_mb:.0f} MB")
        for e in reversed(entries):  # most recently used first
            used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used))
            print(f"  {e.key[:12]}  {e.kind:<10}  {e.size_bytes / 1e6:8.1f} MB  {used}  {e.label}")
        return 0
    removed = cache.clear() if args.cache_command == "clear" else cache.prune(max_mb=args.max_mb)
    freed = sum(e.size_bytes for e in removed)
    left = cache.size_bytes()
    print(f"{cache.root}: removed {len(removed)} entries ({freed / 1e6:.1f} MB); {left / 1e6:.1f} MB left")
    return 0
