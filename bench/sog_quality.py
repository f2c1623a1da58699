"""SOG render quality: what compression costs in the rendered image, ours against splat-transform.

Each encoder's `.sog` is decoded (by our decoder, which reads splat-transform's files
identically, see tests/test_sog_interop.py) and rendered with our CPU rasterizer from the
same cameras as the uncompressed PLY. Reported per encoder: bytes, ratio to the PLY, PSNR
of the compressed render against the uncompressed render (mean over views), and, for a
trained scene, PSNR against the photos before and after compression and the drop.

- `--trained TRAIN_DIR --sfm SFM_DIR`: a scene from our training stage (scene.ply) with
  the SfM folder it was trained from; every registered view is rendered at --resolution
  and compared with its photo (held-out views, every 8th, reported separately).
- `--synthetic N`: bench/sog.py's drone-like scene of N splats, seen by 8 oblique drone
  cameras on an orbit (no photos, so only compressed against uncompressed).

Palette sizes are varied with `--palettes` (0 = automatic) to choose the default.

    .venv/bin/python bench/sog_quality.py --trained /tmp/bench-train-preview/train --sfm /tmp/bench-train-preview/sfm
    .venv/bin/python bench/sog_quality.py --synthetic 1000000 --palettes 0 32768 16384 --no-splat-transform
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sog import SIDE_M, drone_scene  # noqa: E402
from sog_support import splat_transform  # noqa: E402

from spaceport.progress import Progress  # noqa: E402
from spaceport.sog import SogOptions, read_sog, run  # noqa: E402
from spaceport.splat.data import View, load_scene  # noqa: E402
from spaceport.splat.metrics import psnr  # noqa: E402
from spaceport.splat.ply import Splats, read_ply, write_ply  # noqa: E402
from spaceport.splat.rasterize import rasterize  # noqa: E402


def render(splats: Splats, view: View) -> torch.Tensor:
    """(H, W, 3) image in [0, 1] of `splats` (raw PLY values) seen from `view`, on the CPU."""
    sh = np.concatenate([splats.sh_dc[:, None, :], splats.sh_rest.transpose(0, 2, 1)], axis=1)
    with torch.no_grad():
        image, _ = rasterize(
            torch.from_numpy(splats.means), torch.from_numpy(splats.rotations), torch.from_numpy(splats.scales).exp(),
            torch.from_numpy(splats.opacities).sigmoid(), torch.from_numpy(np.ascontiguousarray(sh)),
            view.viewmat, view.K, view.width, view.height, sh_degree=splats.sh_bands, backend="cpu",
        )  # fmt: skip
    return image.clamp(0, 1)


def look_at(eye: np.ndarray, target: np.ndarray) -> torch.Tensor:
    """(4, 4) world->camera matrix (OpenCV axes: x right, y down, z forward), world z up."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    viewmat = np.eye(4)
    viewmat[:3, :3], viewmat[:3, 3] = rotation, -rotation @ eye
    return torch.from_numpy(viewmat).float()


def orbit_views(count: int, width: int, height: int) -> list[View]:
    """`count` cameras 120 m from the centre of the synthetic scene, 70 m up, 75 deg wide, looking at it."""
    fx = width / 2 / math.tan(math.radians(75) / 2)
    K = torch.tensor([[fx, 0, width / 2], [0, fx, height / 2], [0, 0, 1]], dtype=torch.float32)
    views = []
    for index in range(count):
        angle = 2 * math.pi * index / count
        eye = np.array([0.6 * SIDE_M * math.cos(angle), 0.6 * SIDE_M * math.sin(angle), 70.0])
        blank = torch.zeros(height, width, 3)
        views.append(View(name=f"orbit-{index}", image=blank, viewmat=look_at(eye, np.zeros(3)), K=K))
    return views


def encoders(ply: Path, work: Path, palettes: list[int], st_timeout: float | None) -> list[tuple[str, Path, float]]:
    """Encode `ply` with ours (one per palette size) and splat-transform (unless st_timeout is
    None): (label, .sog, seconds)."""
    out = []
    for palette in palettes:
        started = time.perf_counter()
        report = run(ply, work / f"ours-{palette}", SogOptions(palette_size=palette), Progress())
        label = f"spaceport, palette {report.palette_size}" + (" (automatic)" if palette == 0 else "")
        out.append((label, work / f"ours-{palette}" / "scene.sog", time.perf_counter() - started))
    if st_timeout is None:
        return out
    started = time.perf_counter()
    splat_transform(ply, work / "st.sog", timeout=st_timeout)
    out.append(("splat-transform 3.7.0 (-g cpu, defaults)", work / "st.sog", time.perf_counter() - started))
    return out


def mean_psnr(images: list[torch.Tensor], references: list[torch.Tensor]) -> float:
    return float(np.mean([psnr(image, reference) for image, reference in zip(images, references)]))


def compare(ply: Path, views: list[View], held_out: set[str], photos: bool, work: Path, args) -> list[str]:
    """Markdown rows, one for the PLY and one per encoder."""
    original = read_ply(ply)
    reference = [render(original, view) for view in views]
    truth = [view.image for view in views]
    held = [i for i, view in enumerate(views) if view.name in held_out]

    def photo_scores(images: list[torch.Tensor]) -> str:
        if not photos:
            return "| – | – "
        return f"| {mean_psnr(images, truth):.2f} | {mean_psnr([images[i] for i in held], [truth[i] for i in held]):.2f} "

    size = ply.stat().st_size
    rows = [f"| PLY (uncompressed) | {size:,} | 1× | – | – {photo_scores(reference)}| – |"]
    base = mean_psnr(reference, truth) if photos else None
    for label, sog, seconds in encoders(ply, work, args.palettes, None if args.no_splat_transform else args.st_timeout):
        decoded = read_sog(sog)
        images = [render(decoded, view) for view in views]
        drop = f"{base - mean_psnr(images, truth):.3f}" if photos else "–"
        rows.append(f"| {label} | {sog.stat().st_size:,} | {size / sog.stat().st_size:.1f}× | {seconds:.1f} | "
                    f"{mean_psnr(images, reference):.2f} {photo_scores(images)}| {drop} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trained", type=Path, help="a train/ folder holding scene.ply")
    parser.add_argument("--sfm", type=Path, help="the sfm/ folder it was trained from")
    parser.add_argument("--synthetic", type=int, default=0, help="splats of a synthetic drone scene instead")
    parser.add_argument("--palettes", type=int, nargs="+", default=[0], help="our SH palette sizes (0: automatic)")
    parser.add_argument("--resolution", type=int, default=640, help="longest image side of the renders, px")
    parser.add_argument("--st-timeout", type=float, default=3000, help="seconds before splat-transform is abandoned")
    parser.add_argument("--no-splat-transform", action="store_true", help="ours only (its SH k-means takes hours at 1M)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.synthetic:
            ply = work / "scene.ply"
            write_ply(ply, drone_scene(args.synthetic))
            views, held, photos = orbit_views(8, args.resolution, round(args.resolution * 9 / 16)), set(), False
            title = f"synthetic drone scene, {args.synthetic:,} splats, SH 3, 8 orbit views"
        else:
            ply = args.trained / "scene.ply"
            scene = load_scene(args.sfm, args.resolution, 8)
            views, held, photos = scene.train + scene.test, {view.name for view in scene.test}, True
            splats = len(read_ply(ply))
            title = f"trained scene {ply}, {splats:,} splats, {len(views)} views ({len(held)} held out)"
        rows = compare(ply, views, held, photos, work, args)
    print(f"{title}; renders {args.resolution} px; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| encoder | bytes | ratio | encode s | PSNR vs uncompressed dB | PSNR vs photos, all | held-out | drop dB |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
