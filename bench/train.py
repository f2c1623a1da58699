"""Training benchmarks. Part 1 (this script, `--part raster`): rasterizer speed on the CPU.

Seconds per training iteration (SH degree 3 to colour, forward, L1 loss, backward w.r.t.
every Gaussian parameter) of our compiled CPU backend against the plain-PyTorch reference,
in the same run, on a synthetic drone-like scene: 100k Gaussians over undulating ground seen
obliquely, 1000 x 563 px (16:9), scales from the point spacing.

The reference is dense (every Gaussian at every pixel, memory ~ 60 bytes x Gaussians x
pixels), so it cannot run at full size (100k x 563k would need ~3 TB). It is measured on
random subsets of the same scene at reduced resolution (same field of view), where its time
is linear in (visible Gaussians x pixels); the fit is printed and extrapolated to the full
size. The CPU backend is timed at the full size and on the same small configurations.

    .venv/bin/python bench/train.py [--gaussians 100000] [--width 1000] [--iterations 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time

import torch

from spaceport.splat import rasterize
from spaceport.splat.reference import project
from spaceport.splat.sh import num_sh_bases


def drone_scene(n: int, seed: int = 0) -> dict:
    """n Gaussians on undulating ground (40 x 40 units) with SH degree 3 colours."""
    g = torch.Generator().manual_seed(seed)
    xy = (torch.rand(n, 2, generator=g) - 0.5) * 40.0
    height = 0.8 * torch.sin(xy[:, 0] * 0.4) * torch.cos(xy[:, 1] * 0.3) + torch.randn(n, generator=g) * 0.3
    means = torch.stack([xy[:, 0], xy[:, 1], height], dim=1)
    spacing = 40.0 / n**0.5
    scales = spacing * torch.exp(torch.randn(n, 3, generator=g) * 0.5 - 0.3)
    sh = torch.randn(n, num_sh_bases(3), 3, generator=g) * 0.05
    sh[:, 0] = torch.rand(n, 3, generator=g) * 1.5 - 0.75
    return {
        "means": means,
        "quats": torch.randn(n, 4, generator=g),
        "scales": scales,
        "opacities": torch.sigmoid(torch.randn(n, generator=g) * 1.5 + 1.0),
        "sh": sh,
    }


def drone_camera(width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """viewmat (4, 4) of a camera 15 units up, 20 back, looking down 35 degrees; K (3, 3)."""
    eye = torch.tensor([0.0, -20.0, 15.0])
    forward = torch.tensor([0.0, 20.0, -15.0])
    forward = forward / forward.norm()
    right = torch.tensor([1.0, 0.0, 0.0])
    down = torch.linalg.cross(forward, right)
    rot = torch.stack([right, down, forward])
    view = torch.eye(4)
    view[:3, :3], view[:3, 3] = rot, -rot @ eye
    f = 0.8 * width
    K = torch.tensor([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])
    return view, K


def subset(scene: dict, n: int) -> dict:
    idx = torch.randperm(len(scene["means"]), generator=torch.Generator().manual_seed(1))[:n]
    return {k: v[idx] for k, v in scene.items()}


def visible_count(scene: dict, width: int, height: int) -> int:
    view, K = drone_camera(width, height)
    proj = project(scene["means"], scene["quats"], scene["scales"], scene["opacities"], view, K, width, height)
    return int(proj.valid.sum())


def iteration_seconds(scene: dict, width: int, height: int, backend: str, iterations: int) -> float:
    """Median wall time of one iteration (SH, render, L1 loss, backward) after one warm-up."""
    view, K = drone_camera(width, height)
    target = torch.rand(height, width, 3, generator=torch.Generator().manual_seed(2))
    params = {k: v.clone().requires_grad_() for k, v in scene.items()}
    times = []
    for i in range(iterations + 1):
        for p in params.values():
            p.grad = None
        started = time.perf_counter()
        image, _ = rasterize(
            params["means"], params["quats"], params["scales"], params["opacities"], params["sh"],
            view, K, width, height, sh_degree=3, background=torch.ones(3), backend=backend,
        )  # fmt: skip
        (image - target).abs().mean().backward()
        if i:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gaussians", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    width, height = args.width, round(args.width * 9 / 16)
    scene = drone_scene(args.gaussians)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    rasterize(*(scene[k][:1] for k in ("means", "quats", "scales", "opacities", "sh")), *drone_camera(64, 36), 64, 36,
              sh_degree=3, backend="cpu")  # fmt: skip  # builds the extension outside the timings
    full_visible = visible_count(scene, width, height)
    cpu_full = iteration_seconds(scene, width, height, "cpu", args.iterations)
    print(f"CPU backend, {args.gaussians} Gaussians ({full_visible} visible), {width}x{height}: {cpu_full:.3f} s/it")

    rows, per_unit = [], []
    for n, w in ((1000, 200), (2000, 200), (2000, 283)):
        h = round(w * 9 / 16)
        small = subset(scene, n)
        visible = visible_count(small, w, h)
        cpu = iteration_seconds(small, w, h, "cpu", args.iterations)
        ref = iteration_seconds(small, w, h, "reference", 3)
        per_unit.append(ref / (visible * w * h))
        rows.append((n, visible, w, h, ref, cpu))
        print(f"  reference {n} ({visible} visible) at {w}x{h}: {ref:.3f} s/it, CPU backend {cpu * 1000:.1f} ms/it")
    ns_per = statistics.median(per_unit) * 1e9
    ref_full = ns_per * 1e-9 * full_visible * width * height
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print()
    print("| configuration | Gaussians (visible) | image | reference s/it | CPU backend s/it | speed-up |")
    print("|---|---|---|---|---|---|")
    for n, visible, w, h, ref, cpu in rows:
        print(f"| subset, measured | {n} ({visible}) | {w}×{h} | {ref:.3f} | {cpu:.4f} | {ref / cpu:.0f}× |")
    print(
        f"| full, reference extrapolated | {args.gaussians} ({full_visible}) | {width}×{height} | "
        f"{ref_full:.0f} (extrapolated) | {cpu_full:.3f} | **{ref_full / cpu_full:.0f}×** |"
    )
    print(f"\nreference cost: {ns_per:.2f} ns per (visible Gaussian x pixel), spread "
          f"{min(per_unit) * 1e9:.2f}-{max(per_unit) * 1e9:.2f} over the three subsets")  # fmt: skip


if __name__ == "__main__":
    main()
