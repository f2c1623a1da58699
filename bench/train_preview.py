"""Training benchmark, part 2: the `preview` preset on the real Brighton Beach photos.

Runs our SfM on the full-size photos (defaults), then `spaceport train --preset preview`
on the CPU, and prints wall time, Gaussians, held-out PSNR/SSIM (LPIPS is not computed:
no package ships its weights), peak memory; copies the held-out previews to
docs/benchmarks/ as JPEG.

    .venv/bin/python bench/train_preview.py [--photos DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import spaceport  # noqa: F401, I001  first: loads the system zlib before pycolmap (see spaceport/__init__.py)
import pycolmap
from PIL import Image

from spaceport import ingest, sfm, splat
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm.options import SfmOptions
from spaceport.splat.options import TrainOptions

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "datasets" / "brighton_beach" / "images"


def log_every(seconds: float):
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        if time.monotonic() - last[0] > seconds:
            print(f"[{fraction * 100:5.1f}%] {message}", flush=True)
            last[0] = time.monotonic()

    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-train-preview"))
    args = parser.parse_args()
    pycolmap.logging.minloglevel = 2
    started = time.perf_counter()
    if not (args.work / "sfm" / "report.json").is_file():
        ingest.run(args.photos, args.work / "images", IngestOptions(), Progress())
        sfm.run(args.work / "images", args.work / "sfm", SfmOptions(), Progress())
    sfm_seconds = time.perf_counter() - started
    report = splat.run(args.work / "sfm", args.work / "train", TrainOptions(preset="preview"), Progress(log_every(60)))
    previews = ROOT / "docs" / "benchmarks"
    previews.mkdir(parents=True, exist_ok=True)
    for png in sorted((args.work / "train" / "previews").glob("*.png")):
        Image.open(png).convert("RGB").save(previews / f"brighton-preview-{png.stem}.jpg", quality=85)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| stage | wall s | Gaussians | held-out PSNR dB | SSIM | LPIPS | s/step | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| SfM (full-size photos) | {sfm_seconds:.0f} | | | | | | |")
    print(f"| train, preview preset ({report.iterations} steps, {report.images_train} train / {report.images_test} "
          f"held-out views) | {report.seconds:.0f} | {report.gaussians} | {report.psnr:.2f} | {report.ssim:.3f} | n/a | "
          f"{report.seconds_per_iteration:.2f} | {report.peak_memory_mb:.0f} |")


if __name__ == "__main__":
    main()
