"""Download a pinned sdist from PyPI at run time and unpack it into the cache.

Nothing fetched here is committed: the cache lives outside version control
(``.compat-cache/`` by default, or ``$ACTORGRAPH_COMPAT_CACHE``). The file's sha256 is
checked against the one the index publishes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import time
import urllib.request
from pathlib import Path

__all__ = ("cache_dir", "fetch_sdist")

_INDEX = os.environ.get("ACTORGRAPH_COMPAT_INDEX", "https://pypi.org/simple")


def cache_dir() -> Path:
    root = os.environ.get("ACTORGRAPH_COMPAT_CACHE")
    path = Path(root) if root else Path(__file__).resolve().parent.parent / ".compat-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _get(url: str, accept: str | None = None) -> bytes:
    headers = {"User-Agent": "actorgraph-compat"}
    if accept:
        headers["Accept"] = accept
    last: Exception | None = None
    for attempt in range(4):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as resp:
                return resp.read()
        except OSError as exc:  # network hiccups: retry with backoff, then give up loudly
            last = exc
            time.sleep(1.5 * (attempt + 1))
    raise SystemExit(f"compat: could not download {url}: {last}")


def fetch_sdist(dist: str, version: str) -> Path:
    """The unpacked source tree of ``dist==version`` (downloaded once, then cached)."""
    root = cache_dir() / "src"
    prefix = f"{dist.replace('-', '_')}-{version}"
    tree = root / prefix
    if (tree / "PKG-INFO").exists():
        return tree
    index = json.loads(_get(f"{_INDEX}/{dist}/", accept="application/vnd.pypi.simple.v1+json"))
    wanted = {f"{prefix}.tar.gz", f"{dist}-{version}.tar.gz"}
    entry = next((f for f in index.get("files", []) if f["filename"] in wanted), None)
    if entry is None:
        raise SystemExit(f"compat: PyPI has no sdist for {dist}=={version}")
    data = _get(entry["url"])
    expected = entry.get("hashes", {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise SystemExit(f"compat: sha256 mismatch for {entry['filename']}")
    root.mkdir(parents=True, exist_ok=True)
    archive = root / entry["filename"]
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        top = {m.name.split("/", 1)[0] for m in tar.getmembers()}
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+
            tar.extractall(root, filter="data")
        else:
            tar.extractall(root)
    (top_dir,) = top
    if root / top_dir != tree:
        (root / top_dir).rename(tree)
    archive.unlink()
    return tree
