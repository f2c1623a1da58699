"""Stage 2: 3D Gaussian Splatting training.

`run(src, dst, options, progress)` trains on the COLMAP dataset in `src` (an `sfm/` folder
or any `sparse/0` + `images/` layout) and writes into `dst`: `scene.ply` (standard 3DGS
layout), `metrics.json` (`TrainReport`), `previews/` (ground truth | render on held-out
views) and, while running, `checkpoint.pt` to resume after an interruption.

Rasterizer backends: gsplat (CUDA), our compiled CPU kernels, and a plain-PyTorch reference.
"""

from __future__ import annotations

from pathlib import Path

from spaceport.errors import InputError
from spaceport.progress import Progress
from spaceport.splat.data import load_scene
from spaceport.splat.model import to_splats
from spaceport.splat.options import TrainOptions, TrainReport
from spaceport.splat.ply import write_ply
from spaceport.splat.rasterize import rasterize, resolve_backend
from spaceport.splat.trainer import CHECKPOINT, Trainer, peak_memory_mb, timed_training

__all__ = ["run", "TrainOptions", "TrainReport", "rasterize", "resolve_backend"]


def choose_device(option: str) -> tuple[str, str]:
    """(torch device, rasterizer backend) for the `device` option."""
    if option == "cuda" and resolve_backend("auto") != "cuda":
        raise InputError("device=cuda: no CUDA GPU with gsplat is available here; use --device cpu or auto")
    backend = resolve_backend("auto") if option == "auto" else option
    return ("cuda" if backend == "cuda" else "cpu"), backend


def run(src: Path, dst: Path, options: TrainOptions, progress: Progress) -> TrainReport:
    """Train Gaussians on the dataset in `src`, written to `dst` (see module docstring)."""
    resolved = options.resolved()
    device, backend = choose_device(resolved.device)
    progress.update(0.0, "loading photos")
    scene = load_scene(src, resolved.resolution, resolved.test_every)
    dst.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(scene, resolved, device, backend)
    checkpoint = dst / CHECKPOINT
    if checkpoint.is_file():
        trainer.load(checkpoint)
        progress.update(trainer.step / resolved.iterations, f"resuming at step {trainer.step}")
    first_step = trainer.step
    seconds = timed_training(trainer, progress.span(0.0, 0.95), checkpoint)
    progress.update(0.95, "evaluating held-out views")
    previews = dst / "previews"
    previews.mkdir(exist_ok=True)
    test_psnr, test_ssim = trainer.evaluate(scene.test, previews)
    train_psnr, _ = trainer.evaluate(scene.train[:: max(1, len(scene.train) // 8)], None)
    write_ply(dst / "scene.ply", to_splats(trainer.params, resolved.sh_degree))
    report = TrainReport(
        psnr=test_psnr, ssim=test_ssim, train_psnr=train_psnr, iterations=trainer.step,
        gaussians=len(trainer.params["means"]), seconds=round(seconds, 2),
        seconds_per_iteration=round(seconds / max(trainer.step - first_step, 1), 4), device=device,
        peak_memory_mb=round(peak_memory_mb(device), 1), images_train=len(scene.train), images_test=len(scene.test),
        options=resolved.model_dump(mode="json"),
    )
    (dst / "metrics.json").write_text(report.model_dump_json(indent=2))
    checkpoint.unlink(missing_ok=True)
    progress.update(1.0, f"trained {report.gaussians} Gaussians, held-out PSNR {test_psnr or 0:.2f} dB")
    return report
