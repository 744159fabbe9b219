"""The study cache: one JSON file per point, ``<folder>/<key>.json``, written atomically."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

from optimizer.records.results import CACHE_VERSION, PointResult
from optimizer.report.files import json_default, write_atomic

logger = logging.getLogger(__name__)


class Cache:
    """One JSON file per point, ``<folder>/<key>.json``, written atomically."""

    def __init__(self, folder: Path, read: bool = True):
        self.folder = folder
        self.read = read

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def clean(self) -> int:
        """Remove temporary files an interrupted run left (``write_atomic``'s ``.*.tmp``)."""
        removed = 0
        if self.folder.is_dir():
            for tmp in self.folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
        return removed

    def load(self, key: str) -> PointResult | None:
        if not self.read:
            return None
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            logger.warning("ignoring a damaged cache file %s: the point is solved again", path)
            return None
        if (not isinstance(data, dict) or data.get("key") != key
                or data.get("cache_version") != CACHE_VERSION):
            logger.warning("ignoring a cache file that does not match %s", path)
            return None
        try:
            return PointResult.from_json(data)
        except (KeyError, TypeError, ValueError):
            logger.warning("ignoring a damaged cache file %s: the point is solved again", path)
            return None

    def save(self, result: PointResult) -> None:
        write_atomic(self.path(result.key), json.dumps(
            result.to_json(), indent=1, allow_nan=False, default=json_default) + "\n")
