"""SOG compression: a standard 3DGS PLY -> PlayCanvas SOG v2 scene, and back.

`run(src, dst, options, progress)` reads `src` (a PLY file, or a folder holding
`scene.ply`, such as a job's `train/`), writes `dst/scene.sog` (or, with
`bundle=False`, the folder `dst/scene/` with `meta.json` beside the images) and
`dst/report.json` with sizes, round-trip errors and seconds per phase.
`decompress(scene, ply)` turns a SOG scene back into a PLY.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from spaceport.errors import InputError
from spaceport.progress import Progress
from spaceport.sog import container, encode, kmeans, order
from spaceport.sog.decode import read_sog
from spaceport.sog.options import ErrorStats, SogOptions, SogReport
from spaceport.splat.ply import SH_C0, Splats, read_ply, write_ply

__all__ = ["run", "decompress", "compress_splats", "read_sog", "round_trip_errors", "SogOptions", "SogReport"]

SCENE_PLY = "scene.ply"
OPACITY_LIMIT = 20.0  # |logit| beyond which sigmoid is 0 or 1 in 8 bits


def find_ply(src: Path) -> Path:
    """The PLY to compress: `src` itself, or `src/scene.ply` for a folder."""
    src = Path(src)
    if src.is_dir():
        if not (src / SCENE_PLY).is_file():
            raise InputError(f"{src}: folder has no {SCENE_PLY}; give a PLY file or a train/ folder")
        return src / SCENE_PLY
    if not src.is_file():
        raise InputError(f"{src}: no such PLY file or folder")
    return src


def run(src: Path, dst: Path, options: SogOptions, progress: Progress) -> SogReport:
    """Compress the PLY at `src` into `dst` (see the module docstring)."""
    ply = find_ply(src)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    splats = read_ply(ply)
    seconds["read"] = round(time.perf_counter() - started, 3)
    progress.update(0.02, f"read {len(splats)} splats")
    files, cleaned, order_, notes, encode_seconds, palette = compress_splats(splats, options, progress.span(0.02, 0.95))
    seconds.update(encode_seconds)

    started = time.perf_counter()
    dst.mkdir(parents=True, exist_ok=True)
    scene = dst / "scene.sog" if options.bundle else dst / "scene"
    if options.bundle:
        container.write_bundle(scene, files)
        output_bytes = scene.stat().st_size
    else:
        container.write_folder(scene, files)
        output_bytes = sum(len(data) for data in files.values())
    seconds["write"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    decoded = read_sog(scene)
    errors = round_trip_errors(cleaned.subset(order_), decoded)
    seconds["verify"] = round(time.perf_counter() - started, 3)
    input_bytes = ply.stat().st_size
    report = SogReport(
        splats_in=len(splats),
        splats=len(cleaned),
        sh_bands=cleaned.sh_bands,
        palette_size=palette,
        ordering=options.ordering,
        image_size=encode.image_size(len(cleaned)),
        input_bytes=input_bytes,
        output_bytes=output_bytes,
        ratio=round(input_bytes / output_bytes, 3),
        file_bytes={name: len(data) for name, data in files.items()},
        errors=errors,
        warnings=notes,
        seconds=seconds,
    )
    (dst / "report.json").write_text(report.model_dump_json(indent=2))
    progress.update(1.0, f"{report.ratio:.1f}x smaller: {output_bytes} bytes")
    return report


def compress_splats(
    splats: Splats, options: SogOptions, progress: Progress
) -> tuple[dict[str, bytes], Splats, np.ndarray, list[str], dict[str, float], int]:
    """Encode splats as SOG files.

    Returns (files name -> bytes, the cleaned splats, the order written (pixel i holds
    cleaned splat order[i]), warnings, seconds per phase, palette entries written).
    """
    seconds: dict[str, float] = {}
    clock = Clock(seconds)
    cleaned, notes = clean(splats)
    cleaned = cleaned.with_bands(options.sh_bands)
    n = len(cleaned)
    width, height = encode.image_size(n)
    if width > 16383 or height > 16383:
        raise InputError(f"{n} splats need {width}x{height} images, beyond WebP's 16383 px limit; split the scene")

    with clock("order"):
        order_ = order.morton_order(cleaned.means)
        if options.ordering == "plas":
            opacity = 1.0 / (1.0 + np.exp(-cleaned.opacities.astype(np.float64)))
            feats = order.features(cleaned.means, cleaned.scales, cleaned.sh_dc, opacity)
            order_ = order.plas_order(feats, width, order_, options.plas_iterations, options.seed, progress.span(0.0, 0.4))
    progress.update(0.4, "ordered")
    s = cleaned.subset(order_)
    pixels: dict[str, np.ndarray] = {}
    books: dict[str, list[float]] = {}
    with clock("quantize"):
        low, high, mins, maxs = encode.encode_means(s.means)
        pixels["means_l.webp"], pixels["means_u.webp"] = low, high
        pixels["quats.webp"] = encode.encode_quats(s.rotations)
        pixels["scales.webp"], books["scales"] = encode.encode_codebook_rgb(
            s.scales, size_power=encode.SCALE_SIZE_POWER
        )
        pixels["sh0.webp"], books["sh0"] = encode.encode_codebook_rgb(
            s.sh_dc, encode.opacity_byte(s.opacities), encode.COLOR_DENSITY_POWER
        )
    images = {name: encode.to_image(p, width, height) for name, p in pixels.items()}
    shn, palette = None, 0
    if s.sh_bands > 0:
        with clock("sh_palette"):
            k = options.palette_size or kmeans.palette_size(n)
            flat = s.sh_rest.reshape(n, -1)
            centres, labels = kmeans.palette(flat, k, options.kmeans_iterations, options.seed, progress.span(0.4, 0.8))
            palette = centres.shape[0]
            images["shN_labels.webp"] = encode.to_image(encode.encode_labels(labels), width, height)
            images["shN_centroids.webp"], book = encode.encode_centroids(centres.reshape(palette, 3, -1))
            shn = encode.shn_meta(palette, s.sh_bands, book)
    progress.update(0.8, "encoding images")
    files: dict[str, bytes] = {}
    with clock("webp"):
        for name, image in images.items():
            progress.raise_if_cancelled()
            files[name] = container.encode_webp(image, options.webp_method)
    files[container.META] = encode.meta_json(n, (mins, maxs), books, shn)
    progress.update(1.0, "encoded")
    return files, cleaned, order_, notes, seconds, palette


class Clock:
    """`with clock(key):` adds the block's wall time, seconds, to `seconds[key]`."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def __call__(self, key: str):
        clock = self

        class Block:
            def __enter__(self) -> None:
                self.started = time.perf_counter()

            def __exit__(self, *exc) -> None:
                clock.seconds[key] = round(clock.seconds.get(key, 0.0) + time.perf_counter() - self.started, 3)

        return Block()


def clean(splats: Splats) -> tuple[Splats, list[str]]:
    """Drop splats that cannot be encoded; clamp infinite scales and opacities. Warns for each fix.

    Dropped: NaN anywhere, infinite position, rotation, colour or SH, zero-length rotation.
    Clamped: +-inf opacity to +-20 (logit), +-inf log scale to the finite extremes.
    Raises InputError when nothing is left.
    """
    notes: list[str] = []
    arrays = [splats.means, splats.scales, splats.rotations, splats.opacities[:, None], splats.sh_dc]
    arrays.append(splats.sh_rest.reshape(len(splats), -1))
    has_nan = np.zeros(len(splats), bool)
    for values in arrays:
        has_nan |= np.isnan(values).any(axis=1)
    infinite = ~np.isfinite(splats.means).all(1) | ~np.isfinite(splats.rotations).all(1) | ~np.isfinite(splats.sh_dc).all(1)
    infinite |= ~np.isfinite(splats.sh_rest.reshape(len(splats), -1)).all(1)
    zero_rotation = ~(np.abs(np.nan_to_num(splats.rotations)) > 0).any(axis=1)
    drop = has_nan | infinite | zero_rotation
    if drop.all():
        raise InputError(f"all {len(splats)} splats have NaN or infinite values or a zero rotation; nothing to compress")
    if drop.any():
        notes.append(f"dropped {int(drop.sum())} of {len(splats)} splats with NaN or infinite values or a zero rotation")
    kept = splats.subset(~drop) if drop.any() else splats
    scales, opacities = kept.scales.copy(), kept.opacities.copy()
    clamped = int((~np.isfinite(scales)).any(1).sum() + (~np.isfinite(opacities)).sum())
    if clamped:
        finite = scales[np.isfinite(scales)]
        low, high = (finite.min(), finite.max()) if finite.size else (-10.0, 0.0)
        scales = np.clip(np.nan_to_num(scales, posinf=high, neginf=low), low, high)
        opacities = np.nan_to_num(opacities, posinf=OPACITY_LIMIT, neginf=-OPACITY_LIMIT)
        notes.append(f"clamped {clamped} infinite scales or opacities to finite values")
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return Splats(kept.means, scales, kept.rotations, opacities, kept.sh_dc, kept.sh_rest), notes


def stats(values: np.ndarray) -> ErrorStats:
    values = np.asarray(values, np.float64)
    return ErrorStats(mean=float(values.mean()), max=float(values.max())) if values.size else ErrorStats(mean=0.0, max=0.0)


def round_trip_errors(original: Splats, decoded: Splats) -> dict[str, ErrorStats]:
    """Per-attribute errors between the splats written (same order) and their decoding."""
    q1 = original.rotations / np.linalg.norm(original.rotations, axis=1, keepdims=True)
    q2 = decoded.rotations / np.linalg.norm(decoded.rotations, axis=1, keepdims=True)
    dot = np.clip(np.abs((q1.astype(np.float64) * q2).sum(axis=1)), 0.0, 1.0)
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x.astype(np.float64)))  # noqa: E731
    errors = {
        "position_m": stats(np.linalg.norm(original.means.astype(np.float64) - decoded.means, axis=1)),
        "rotation_deg": stats(np.degrees(2.0 * np.arccos(dot))),
        "scale_log": stats(np.abs(original.scales - decoded.scales)),
        "color": stats(SH_C0 * np.abs(original.sh_dc - decoded.sh_dc)),
        "opacity": stats(np.abs(sigmoid(original.opacities) - sigmoid(decoded.opacities))),
    }
    if original.sh_bands > 0:
        errors["sh_rest"] = stats(np.abs(original.sh_rest - decoded.sh_rest))
    return errors


def decompress(scene: Path, ply: Path) -> Splats:
    """Decode the SOG `scene` (bundle, folder or meta.json) and write it as a standard PLY."""
    splats = read_sog(scene)
    write_ply(ply, splats)
    return splats
