"""SOG compression benchmark: Spaceport's encoder against PlayCanvas splat-transform, same run.

Scenes are synthetic but shaped like a trained drone capture, at sizes CPU training does
not reach (the trained Brighton scene is in bench/sog_quality.py): a 200 m x 200 m
terrain of flat ground splats with a smooth colour texture, buildings with flat wall and roof splats, round trees, a few large faint floaters;
opacities piled up near 0 and 1 as trained scenes have them; SH bands decaying in
strength and correlated with the material. Positions in metres around the origin (ENU).

For each scene size it writes the PLY, then runs and times (wall clock, whole command
including reading the PLY; our in-process check of the written file is excluded):
  - spaceport, ordering plas and morton, with degree-3 SH and with SH dropped (--sh-bands 0);
  - splat-transform 3.7.0 `-g cpu` with SH dropped (`-H 0`), and with degree-3 SH on
    the smaller scene only, since its CPU k-means takes hours on a million splats
    (its iterations are lowered with -i to keep the run bounded; the row says so).
Errors are measured on the decoded files against the input (splat-transform's output is
matched to the input through its 16-bit position codes). Render PSNR (compressed against
uncompressed, and against photos) is measured by bench/sog_quality.py. Prints Markdown
tables for docs/benchmarks.md.

    .venv/bin/python bench/sog.py [--splats 1000000 2000000] [--st-sh-splats 100000] [--st-iterations 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sog_support import splat_transform  # noqa: E402

from spaceport.progress import Progress  # noqa: E402
from spaceport.sog import SogOptions, read_sog, round_trip_errors, run  # noqa: E402
from spaceport.sog.container import decode_webp, read_files  # noqa: E402
from spaceport.splat.ply import SH_C0, Splats, write_ply  # noqa: E402

SIDE_M = 200.0


def smooth_field(points: np.ndarray, rng: np.random.Generator, waves: int = 6, wavelength_m: float = 30.0) -> np.ndarray:
    """(N,) sum of random plane waves over (N, D) points: a smooth texture in about -1..1."""
    out = np.zeros(points.shape[0])
    for _ in range(waves):
        direction = rng.normal(size=points.shape[1])
        direction /= np.linalg.norm(direction)
        frequency = 2 * np.pi / (wavelength_m * rng.uniform(0.3, 1.5))
        out += np.sin(points @ direction * frequency + rng.uniform(0, 2 * np.pi))
    return out / np.sqrt(waves / 2)


def quaternion_from_normal(normal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 4) w, x, y, z rotating the local z axis onto (N, 3) unit normals, random spin about it."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(np.broadcast_to(z, normal.shape), normal)
    sin = np.linalg.norm(axis, axis=1, keepdims=True)
    cos = normal @ z
    angle = np.arctan2(sin[:, 0], cos)
    axis = np.where(sin > 1e-9, axis / np.maximum(sin, 1e-12), np.array([1.0, 0.0, 0.0]))
    tilt = np.concatenate([np.cos(angle / 2)[:, None], axis * np.sin(angle / 2)[:, None]], axis=1)
    spin = rng.uniform(0, 2 * np.pi, normal.shape[0])
    twist = np.stack([np.cos(spin / 2), 0 * spin, 0 * spin, np.sin(spin / 2)], axis=1)  # about local z
    w1, v1 = tilt[:, :1], tilt[:, 1:]
    w2, v2 = twist[:, :1], twist[:, 1:]
    return np.concatenate([w1 * w2 - (v1 * v2).sum(1, keepdims=True), w1 * v2 + w2 * v1 + np.cross(v1, v2)], axis=1)


def drone_scene(n: int, seed: int = 0) -> Splats:
    """A synthetic trained-looking drone scene of n splats with degree-3 SH (see module docstring)."""
    rng = np.random.default_rng(seed)
    parts = {"ground": int(n * 0.55), "buildings": int(n * 0.25), "trees": int(n * 0.17)}
    parts["floaters"] = n - sum(parts.values())
    means, normals, scales, colours, material = [], [], [], [], []

    def terrain(xy: np.ndarray) -> np.ndarray:
        return 3.0 * np.sin(xy[:, 0] / 37.0) * np.cos(xy[:, 1] / 53.0) + 1.5 * np.sin(xy[:, 1] / 17.0 + 1.0)

    # ground: flat splats on a rolling terrain, asphalt / grass texture
    xy = rng.uniform(-SIDE_M / 2, SIDE_M / 2, (parts["ground"], 2))
    ground = np.column_stack([xy, terrain(xy)])
    means.append(ground)
    normals.append(np.tile([0.0, 0.0, 1.0], (len(ground), 1)) + rng.normal(size=(len(ground), 3)) * 0.1)
    flat = np.column_stack([rng.normal(-2.0, 0.5, (len(ground), 2)), rng.normal(-5.0, 0.5, len(ground))])
    scales.append(flat)
    field = smooth_field(xy, rng)
    grass = np.array([0.30, 0.45, 0.20]) + np.outer(field, [0.05, 0.08, 0.03])
    asphalt = np.array([0.35, 0.35, 0.37]) + np.outer(field, [0.04, 0.04, 0.04])
    road = (np.abs(np.sin(xy[:, 0] / 25.0)) < 0.15)[:, None]
    colours.append(np.where(road, asphalt, grass) + rng.normal(size=(len(ground), 3)) * 0.04)
    material.append(np.where(road[:, 0], 0, 1))

    # buildings: boxes with walls and roofs of flat splats, a window grid
    count = parts["buildings"]
    boxes = 60
    centre = rng.uniform(-SIDE_M * 0.4, SIDE_M * 0.4, (boxes, 2))
    size = rng.uniform(6, 20, (boxes, 2))
    height = rng.uniform(5, 30, boxes)
    which = rng.integers(0, boxes, count)
    face = rng.integers(0, 5, count)  # 0..3 walls, 4 roof
    u, v = rng.uniform(-0.5, 0.5, count), rng.uniform(0, 1, count)
    half = size[which] / 2
    base = terrain(centre[which])
    sx = np.where(face < 2, (face * 2 - 1) * half[:, 0], u * size[which, 0])
    sy = np.where(face < 2, u * size[which, 1], np.where(face < 4, ((face - 2) * 2 - 1) * half[:, 1], v * size[which, 1] - half[:, 1]))
    sx = np.where(face == 4, u * size[which, 0], sx)
    sz = np.where(face == 4, height[which], v * height[which])
    means.append(np.column_stack([centre[which, 0] + sx, centre[which, 1] + sy, base + sz]))
    face_normals = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    normals.append(face_normals[face])
    scales.append(np.column_stack([rng.normal(-2.3, 0.4, (count, 2)), rng.normal(-5.5, 0.5, count)]))
    facade = rng.uniform(0.3, 0.9, (boxes, 3))[which]
    window = ((np.sin(sz * 2.0) > 0.6) & (np.sin(u * 20.0) > 0.2) & (face < 4))[:, None]
    colours.append(np.where(window, [0.15, 0.2, 0.3], facade) + rng.normal(size=(count, 3)) * 0.03)
    material.append(np.where(window[:, 0], 2, 3))

    # trees: round crowns of roughly isotropic splats
    count = parts["trees"]
    trees = 400
    tree_xy = rng.uniform(-SIDE_M / 2, SIDE_M / 2, (trees, 2))
    radius = rng.uniform(1.5, 4.0, trees)
    which = rng.integers(0, trees, count)
    offset = rng.normal(size=(count, 3))
    offset *= (radius[which] * rng.uniform(0.3, 1.0, count) / np.linalg.norm(offset, axis=1))[:, None]
    crown = np.column_stack([tree_xy[which], terrain(tree_xy[which]) + radius[which] + 2.0]) + offset
    means.append(crown)
    normals.append(offset / np.linalg.norm(offset, axis=1, keepdims=True))
    scales.append(rng.normal(-2.6, 0.4, (count, 3)))
    colours.append(np.array([0.15, 0.35, 0.12]) + rng.normal(size=(count, 3)) * 0.05)
    material.append(np.full(count, 4))

    # floaters: large faint splats in the air
    count = parts["floaters"]
    means.append(np.column_stack([rng.uniform(-SIDE_M / 2, SIDE_M / 2, (count, 2)), rng.uniform(0, 60, count)]))
    normals.append(rng.normal(size=(count, 3)))
    scales.append(rng.normal(-0.5, 0.7, (count, 3)))
    colours.append(rng.uniform(0.3, 0.9, (count, 3)))
    material.append(np.full(count, 5))

    means_, scales_, colours_ = np.concatenate(means), np.concatenate(scales), np.clip(np.concatenate(colours), 0, 1)
    normals_ = np.concatenate(normals)
    normals_ /= np.linalg.norm(normals_, axis=1, keepdims=True)
    material_ = np.concatenate(material)
    # opacities pile up near 0 and 1, as after training; floaters stay faint
    alpha = rng.beta(0.4, 0.25, n)
    alpha[material_ == 5] = rng.uniform(0.01, 0.2, parts["floaters"])
    alpha = np.clip(alpha, 1e-4, 1 - 1e-4)
    # view dependence: per-material directions plus noise, weaker in higher bands
    sh_rest = np.zeros((n, 3, 15))
    strength = np.repeat([0.08, 0.05, 0.03], [3, 5, 7])
    per_material = rng.normal(size=(6, 3, 15)) * strength
    sh_rest = per_material[material_] + rng.normal(size=(n, 3, 15)) * strength * 0.6
    shuffle = rng.permutation(n)  # trained PLYs are in no spatial order
    return Splats(
        means=means_[shuffle].astype(np.float32),
        scales=scales_[shuffle].astype(np.float32),
        rotations=(quaternion_from_normal(normals_, rng) * rng.uniform(0.5, 2.0, (n, 1)))[shuffle].astype(np.float32),
        opacities=np.log(alpha / (1 - alpha))[shuffle].astype(np.float32),
        sh_dc=((colours_ - 0.5) / SH_C0)[shuffle].astype(np.float32),
        sh_rest=sh_rest[shuffle].astype(np.float32),
    )


def timed_spaceport(ply: Path, out: Path, **options) -> dict:
    started = time.perf_counter()
    report = run(ply, out, SogOptions(**options), Progress())
    wall = time.perf_counter() - started - report.seconds.get("verify", 0.0)
    return {"bytes": report.output_bytes, "seconds": wall, "errors": {k: v.model_dump() for k, v in report.errors.items()},
            "phases": report.seconds}


def timed_splat_transform(ply: Path, out: Path, *flags: str, timeout: float) -> dict:
    started = time.perf_counter()
    try:
        splat_transform(ply, *flags, out, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"bytes": None, "seconds": time.perf_counter() - started, "errors": {}, "timeout": True}
    seconds = time.perf_counter() - started
    return {"bytes": out.stat().st_size, "seconds": seconds, "errors": errors_of_other(ply, out)}


def errors_of_other(ply: Path, scene: Path) -> dict:
    """Round-trip errors of a SOG written by another tool, matched to the input by 16-bit position codes."""
    from spaceport.splat.ply import read_ply

    original, decoded = read_ply(ply), read_sog(scene)
    meta, files = read_files(scene)
    low = decode_webp(files[meta["means"]["files"][0]], "l").reshape(-1, 4)[: meta["count"], :3].astype(np.int64)
    high = decode_webp(files[meta["means"]["files"][1]], "u").reshape(-1, 4)[: meta["count"], :3].astype(np.int64)
    codes = low + 256 * high
    mins, maxs = np.asarray(meta["means"]["mins"]), np.asarray(meta["means"]["maxs"])
    logged = np.sign(original.means) * np.log(np.abs(original.means.astype(np.float64)) + 1)
    expected = np.trunc(65535 * (logged - mins) / np.where(maxs > mins, maxs - mins, 1)).astype(np.int64)
    key = lambda c: (c[:, 0] << 32) | (c[:, 1] << 16) | c[:, 2]  # noqa: E731
    ko, kd = key(expected), key(codes)
    uo, co = np.unique(ko, return_counts=True)
    single = set(uo[co == 1].tolist())
    ud, cd = np.unique(kd, return_counts=True)
    single &= set(ud[cd == 1].tolist())
    pick_o = np.array([i for i, k in enumerate(ko.tolist()) if k in single])
    pick_d = np.array([i for i, k in enumerate(kd.tolist()) if k in single])
    pick_o = pick_o[np.argsort(ko[pick_o])]
    pick_d = pick_d[np.argsort(kd[pick_d])]
    bands = min(original.sh_bands, decoded.sh_bands)
    errors = round_trip_errors(original.with_bands(bands).subset(pick_o), decoded.with_bands(bands).subset(pick_d))
    out = {k: v.model_dump() for k, v in errors.items()}
    out["matched_fraction"] = len(pick_o) / len(original)
    return out


def machine() -> str:
    load = os.getloadavg()
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, no GPU; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splats", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--st-sh-splats", type=int, default=100_000, help="scene size for splat-transform with SH (0: skip)")
    parser.add_argument("--st-iterations", type=int, default=1, help="splat-transform -i for its SH k-means")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds before a splat-transform run is abandoned")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write all results here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="sog-bench-"))
    results = []
    print(f"machine: {machine()}", flush=True)
    sizes = args.splats + ([args.st_sh_splats] if args.st_sh_splats else [])
    for n in sorted(set(sizes)):
        ply = work / f"drone-{n}.ply"
        write_ply(ply, drone_scene(n))
        size = ply.stat().st_size
        rows = []
        full = n in args.splats
        if full:
            rows.append(("spaceport plas, SH 3", timed_spaceport(ply, work / f"ours-plas-{n}", ordering="plas")))
            rows.append(("spaceport morton, SH 3", timed_spaceport(ply, work / f"ours-morton-{n}", ordering="morton")))
            rows.append(("spaceport plas, SH 0", timed_spaceport(ply, work / f"ours-plas0-{n}", ordering="plas", sh_bands=0)))
            rows.append(("spaceport morton, SH 0", timed_spaceport(ply, work / f"ours-morton0-{n}", ordering="morton", sh_bands=0)))
            rows.append(("splat-transform, SH 0 (-H 0)", timed_splat_transform(ply, work / f"st0-{n}.sog", "-H", "0", timeout=args.timeout)))
        if n == args.st_sh_splats:
            if not full:
                rows.append(("spaceport morton, SH 3", timed_spaceport(ply, work / f"ours-morton-{n}", ordering="morton")))
                rows.append(("spaceport plas, SH 3", timed_spaceport(ply, work / f"ours-plas-{n}", ordering="plas")))
            rows.append((f"splat-transform, SH 3 (-i {args.st_iterations})",
                         timed_splat_transform(ply, work / f"st3-{n}.sog", "-i", str(args.st_iterations), timeout=args.timeout)))
        results.append({"splats": n, "ply_bytes": size, "rows": rows})
        print_table(n, size, rows)
        print(f"machine after {n}: {machine()}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_table(n: int, size: int, rows: list) -> None:
    print(f"\n### {n:,} splats, PLY {size / 1e6:.1f} MB\n")
    print("| encoder | bytes | ratio | encode s | position mm (mean/max) | rotation deg (mean) | scale log (mean) | colour (mean) | opacity (mean) | SH rest (mean) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        e = r["errors"]
        if r.get("bytes") is None:
            print(f"| {name} | did not finish in {r['seconds']:.0f} s | | | | | | | | |")
            continue
        def m(key, scale=1.0, digits=4):
            return f"{e[key]['mean'] * scale:.{digits}f}" if key in e else "-"
        pos = f"{e['position_m']['mean'] * 1000:.2f} / {e['position_m']['max'] * 1000:.1f}" if "position_m" in e else "-"
        print(f"| {name} | {r['bytes']:,} | {size / r['bytes']:.1f}x | {r['seconds']:.1f} | {pos} | {m('rotation_deg', digits=3)} | "
              f"{m('scale_log')} | {m('color')} | {m('opacity')} | {m('sh_rest')} |")
    print(flush=True)


if __name__ == "__main__":
    main()
