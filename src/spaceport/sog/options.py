"""Options and report of the SOG compression stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Ordering = Literal["plas", "morton"]


class SogOptions(BaseModel):
    """How a 3DGS PLY becomes a PlayCanvas SOG v2 scene."""

    sh_bands: int = Field(3, ge=0, le=3, description="Spherical-harmonic bands to keep (0-3); never more than the input has.")
    palette_size: int = Field(
        0,
        ge=0,
        le=65536,
        description="Entries of the SH palette (0: automatic, a quarter of splat-transform's size: 1024 to 16384 growing with the splat count; all splats below 1024).",
    )
    kmeans_iterations: int = Field(10, ge=1, le=100, description="Lloyd iterations of each SH palette k-means level.")
    ordering: Ordering = Field(
        "morton",
        description="Splat order in the images: morton = 3D Z-order row by row (smallest files in our benchmark, fastest); "
        "plas = self-organizing 2D sort (PLAS-like).",
    )
    plas_iterations: int = Field(6, ge=1, le=64, description="Swap rounds per radius of the plas sort.")
    webp_method: int = Field(
        4, ge=0, le=6, description="Lossless WebP method (0 fastest .. 6 slowest); 3 and above give sizes within 0.2%."
    )
    bundle: bool = Field(True, description="Write one scene.sog ZIP; --no-bundle writes meta.json beside the images.")
    seed: int = Field(0, ge=0, description="Random seed, for repeatable results.")


class ErrorStats(BaseModel):
    """Mean and largest error of one attribute after a round trip."""

    mean: float
    max: float


class SogReport(BaseModel):
    """`compress/report.json`: sizes, errors and timing of one compression."""

    splats_in: int = Field(description="Splats in the input PLY.")
    splats: int = Field(description="Splats written (input less those dropped for NaN values).")
    sh_bands: int
    palette_size: int = Field(description="SH palette entries written (0 without SH).")
    ordering: Ordering
    image_size: tuple[int, int] = Field(description="(width, height) of the per-splat images, px.")
    input_bytes: int
    output_bytes: int
    ratio: float = Field(description="input_bytes / output_bytes.")
    file_bytes: dict[str, int] = Field(description="Bytes of each file in the scene (meta.json and images).")
    errors: dict[str, ErrorStats] = Field(
        description=(
            "Round-trip errors: position_m (distance, metres), rotation_deg (angle), scale_log (|log ratio| of each axis), "
            "color (|RGB difference|, 0..1 per channel), opacity (|difference| after sigmoid), sh_rest (|coefficient difference|)."
        )
    )
    warnings: list[str] = []
    seconds: dict[str, float] = {}
