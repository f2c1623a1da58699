"""Structure-from-motion benchmark on the full-size Brighton Beach photos (18 x 4000x2250).

Runs, in the same process and on the same photos:
  1. Spaceport's default `sfm` stage (incremental mapper), and the same with the global mapper;
  2. COLMAP's defaults as pycolmap gives them: default SIFT extraction (upsampling, up to
     3200 px), exhaustive matching, incremental mapping, one camera per image folder group
     as COLMAP decides.
  3. both of Spaceport's mappers again on every second photo (less overlap: a harder case
     for choosing the default mapper).
Prints a Markdown table (wall time, registered images, points, reprojection error, GPS
residual) and the speed-up, to paste into docs/benchmarks.md.

    .venv/bin/python bench/sfm.py [--photos DIR] [--skip-colmap]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import spaceport  # noqa: F401, I001  first: loads the system zlib before pycolmap (see spaceport/__init__.py)
import pycolmap

from spaceport import ingest, sfm
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm.options import SfmOptions

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "brighton_beach" / "images"


def run_spaceport(images: Path, work: Path, mapper: str, label: str = "") -> dict:
    started = time.perf_counter()
    report = sfm.run(images, work / f"spaceport-{mapper}{label}", SfmOptions(mapper=mapper, fallback=False), Progress())
    name = f"Spaceport default ({mapper} mapper)" if mapper == "incremental" else f"Spaceport, {mapper} mapper"
    return {
        "name": name + label,
        "seconds": time.perf_counter() - started,
        "steps": report.seconds,
        "registered": report.images_registered,
        "total": report.images_total,
        "points": report.points,
        "reprojection_px": report.mean_reprojection_error_px,
        "gps_residual_m": report.gps_residual_m,
    }


def run_colmap_defaults(images: Path, work: Path) -> dict:
    """COLMAP's defaults: extract, exhaustive match, incremental map (as pycolmap gives them)."""
    work.mkdir(parents=True)
    database = work / "database.db"
    steps = {}
    started = time.perf_counter()
    pycolmap.Database.open(str(database)).close()
    names = sorted(p.name for p in images.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    pycolmap.extract_features(str(database), str(images), image_names=names)
    steps["extract"] = time.perf_counter() - started
    pycolmap.match_exhaustive(str(database))
    steps["match"] = time.perf_counter() - started - steps["extract"]
    reconstructions = pycolmap.incremental_mapping(str(database), str(images), str(work / "sparse"))
    steps["map"] = time.perf_counter() - started - steps["extract"] - steps["match"]
    best = max(reconstructions.values(), key=lambda r: r.num_reg_images())
    return {
        "name": "COLMAP defaults (pycolmap)",
        "seconds": time.perf_counter() - started,
        "steps": steps,
        "registered": best.num_reg_images(),
        "total": len(names),
        "points": best.num_points3D(),
        "reprojection_px": best.compute_mean_reprojection_error(),
        "gps_residual_m": None,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| pipeline | wall s | extract s | match s | map s | registered | points | reproj. px | GPS residual m |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        steps = row["steps"]
        gps = f"{row['gps_residual_m']:.2f}" if row["gps_residual_m"] is not None else "n/a"
        lines.append(
            f"| {row['name']} | {row['seconds']:.1f} | {steps.get('extract', 0):.1f} | {steps.get('match', 0):.1f} | "
            f"{steps.get('map', 0):.1f} | {row['registered']}/{row['total']} | {row['points']} | "
            f"{row['reprojection_px']:.2f} | {gps} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--skip-colmap", action="store_true", help="Only run Spaceport's pipelines.")
    args = parser.parse_args()
    pycolmap.logging.minloglevel = 2
    work = Path(tempfile.mkdtemp(prefix="bench-sfm-"))
    try:
        images = work / "images"
        ingest.run(args.photos, images, IngestOptions(), Progress())
        rows = [run_spaceport(images, work, "incremental"), run_spaceport(images, work, "global")]
        if not args.skip_colmap:
            rows.append(run_colmap_defaults(images, work / "colmap"))
        half = work / "half"
        half.mkdir()
        for photo in sorted(args.photos.glob("*.*"))[::2]:
            shutil.copyfile(photo, half / photo.name)
        ingest.run(half, work / "half-images", IngestOptions(), Progress())
        subset = [run_spaceport(work / "half-images", work, mapper, ", every 2nd photo") for mapper in ("incremental", "global")]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"pycolmap {pycolmap.__version__}; photos: {args.photos} ({len(list(images.glob('*.*'))) - 1} files)")
        print(table(rows + subset))
        if not args.skip_colmap:
            print(f"\nspeed-up of Spaceport's default over COLMAP's defaults: {rows[2]['seconds'] / rows[0]['seconds']:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
