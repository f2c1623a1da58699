"""Options and report of the structure-from-motion stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Matching = Literal["auto", "spatial", "sequential", "exhaustive"]
Mapper = Literal["incremental", "global"]
CameraModel = Literal["SIMPLE_RADIAL", "RADIAL", "OPENCV", "SIMPLE_PINHOLE", "PINHOLE"]


class SfmOptions(BaseModel):
    """How photos become camera poses and a sparse point cloud (COLMAP through pycolmap)."""

    model_config = ConfigDict(extra="forbid")

    max_image_size: int = Field(
        1600, ge=100, description="Longest image side, px, for SIFT extraction (COLMAP's default is 3200 with upsampling)."
    )
    max_num_features: int = Field(8192, ge=100, description="Most SIFT features kept per image.")
    camera_model: CameraModel = Field("SIMPLE_RADIAL", description="COLMAP camera model, one camera per physical camera.")
    matching: Matching = Field(
        "auto",
        description="Image pairs to match: auto = spatial with GPS, else exhaustive up to exhaustive_max_images, else sequential.",
    )
    exhaustive_max_images: int = Field(100, ge=2, description="Largest set that auto matches exhaustively (no GPS).")
    spatial_neighbors: int = Field(20, ge=1, description="Nearest GPS neighbours each photo is matched with (spatial).")
    sequential_overlap: int = Field(10, ge=1, description="Following photos each photo is matched with (sequential).")
    mapper: Mapper = Field("incremental", description="COLMAP mapper: incremental (with GPS priors) or global (GLOMAP).")
    fallback: bool = Field(True, description="Try the other mapper when the first result fails validation.")
    min_registered_fraction: float = Field(
        0.7, gt=0, le=1, description="Fewest photos, as a fraction, that must get a pose."
    )
    max_gps_residual_m: float = Field(
        10.0, gt=0, description="Largest median distance, m, between aligned cameras and their GPS positions."
    )
    undistort_max_size: int = Field(1600, ge=100, description="Longest side, px, of the undistorted images in sfm/images.")
    num_threads: int = Field(-1, description="Threads for COLMAP (-1: all cores).")
    seed: int = Field(0, ge=0, description="Random seed, for repeatable results.")


class MapperAttempt(BaseModel):
    """One mapping run and what validation said of it."""

    mapper: Mapper
    images_registered: int
    gps_residual_m: float | None = None
    accepted: bool
    reason: str = ""
    seconds: float


class SfmReport(BaseModel):
    """`sfm/report.json`: what came out of structure from motion and how long it took."""

    images_total: int
    images_registered: int
    cameras: int
    points: int
    mean_reprojection_error_px: float
    mean_track_length: float
    mapper: Mapper
    matching: Matching
    pairs_matched: int = Field(description="Image pairs with geometrically verified matches.")
    frame: Literal["enu", "normalized"] = Field(
        description="enu: metres east-north-up around origin_wgs84; normalized: cameras within a unit sphere, z up."
    )
    origin_wgs84: tuple[float, float, float] | None = Field(None, description="(lat, lon, alt m) of the ENU origin.")
    gps_residual_m: float | None = Field(None, description="Median camera-to-GPS distance after alignment, m.")
    gps_residual_max_m: float | None = None
    attempts: list[MapperAttempt] = []
    warnings: list[str] = []
    seconds: dict[str, float] = {}
