"""Synthetic drone photo sets with known cameras, for structure-from-motion tests.

``make_drone_scene`` builds a small procedural world -- a textured terrain with
smooth hills and a few box-shaped buildings -- renders it from a serpentine grid
of near-nadir pinhole cameras, and writes the images as JPEGs with drone-like
EXIF (focal length and, optionally, GPS).  The true camera centres and
rotations are returned so tests can compare a reconstruction against them.

Conventions used throughout:

* World frame is local ENU (east-north-up), in metres, with its origin on the
  terrain surface; ``origin_wgs84`` gives that origin on the WGS84 ellipsoid.
* Rotations are world-to-camera, COLMAP style: a world point ``X`` maps to
  camera coordinates ``R @ (X - C)``, camera x right, y down, z forward.
* Everything is deterministic for a given ``seed``.  Independent random streams
  are used for terrain, texture, buildings, pose jitter and GPS noise, so e.g.
  changing ``gps_noise_m`` does not change the images.

Only numpy and Pillow are used for the world and the images; pycolmap is used
for the ENU to WGS84 conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycolmap
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

# --- World layout --------------------------------------------------------------

ORIGIN_WGS84 = (50.8, -0.1, 30.0)  # (lat deg, lon deg, ellipsoidal alt m) of ENU origin

SENSOR_WIDTH_MM = 6.17  # a common 1/2.3" drone sensor
FULL_FRAME_WIDTH_MM = 36.0

TERRAIN_HALF_SIZE_M = 128.0  # height grid covers [-128, 128]^2 m
TERRAIN_CELL_M = 0.5
MAX_TERRAIN_SLOPE = 0.35  # keeps the ray / terrain intersection unique, see _intersect_terrain

TEXTURE_PERIOD_M = 204.8  # texture tiles with this period (larger than any single view)
TEXTURE_TEXELS = 2048  # texels per period -> 0.1 m per texel

SUN_DIRECTION = np.array([0.45, -0.35, 0.82])  # towards the sun, ENU, normalised below
AMBIENT = 0.45

# EXIF / TIFF tag numbers.
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_FOCAL_LENGTH = 0x920A
TAG_FOCAL_LENGTH_35MM = 0xA405
TAG_GPS_VERSION = 0x0000
TAG_GPS_LAT_REF = 0x0001
TAG_GPS_LAT = 0x0002
TAG_GPS_LON_REF = 0x0003
TAG_GPS_LON = 0x0004
TAG_GPS_ALT_REF = 0x0005
TAG_GPS_ALT = 0x0006


@dataclass
class SyntheticScene:
    """A rendered photo set and the ground truth it was rendered from."""

    folder: Path  # where the JPEGs were written
    names: list[str]  # file names, in capture order
    centers_enu: np.ndarray  # (N, 3) float64 true camera centres, metres, x=east y=north z=up
    rotations: np.ndarray  # (N, 3, 3) world(ENU)->camera rotations, COLMAP convention
    focal_px: float
    width: int
    height: int
    origin_wgs84: tuple[float, float, float]  # (lat deg, lon deg, alt m) of ENU origin
    extent_m: float  # max distance between camera centres, metres


@dataclass
class _Building:
    """An axis-aligned box, metres in ENU: [xmin, xmax] x [ymin, ymax] x [zmin, zmax]."""

    lo: np.ndarray  # (3,) float
    hi: np.ndarray  # (3,) float
    tint: np.ndarray  # (3,) float, roof colour multiplier


@dataclass
class _World:
    """Everything needed to render: height grid, buildings and texture."""

    heights: np.ndarray  # (G, G) float32 terrain height in metres, cell TERRAIN_CELL_M
    slopes: np.ndarray  # (G, G, 2) float32 terrain (dh/dx, dh/dy) on the same grid
    buildings: list[_Building]
    texture: np.ndarray  # (T, T, 3) float32 linear RGB in [0, 1], periodic


# --- Public API ----------------------------------------------------------------


def make_drone_scene(
    folder: Path,
    rows: int = 3,
    cols: int = 4,
    width: int = 640,
    height: int = 480,
    altitude_m: float = 60.0,
    spacing_m: float = 15.0,
    gps: bool = True,
    gps_noise_m: float = 0.0,
    seed: int = 0,
) -> SyntheticScene:
    """Render a rows x cols serpentine drone survey into ``folder``.

    Cameras fly ``altitude_m`` above the terrain at the ENU origin, ``spacing_m``
    apart in both directions, looking down with a few degrees of jitter.  The
    focal length is 0.75 * width pixels (about 27 mm full-frame equivalent by
    width), so the ground footprint is (width / focal_px) * altitude_m wide:
    80 m x 60 m with the defaults, i.e. 81 % overlap along a row (east-west)
    and 75 % between rows (north-south).  Overlap is not enforced, so tests
    may ask for sparse surveys on purpose.

    The world (terrain with a few metres of hills, eight 5-15 m tall box
    buildings within 45 m of the origin, coloured multi-scale texture) covers
    about 200 m x 200 m around the origin and depends only on ``seed``.

    Files are named IMG_0001.JPG, IMG_0002.JPG, ... in capture order.  With
    ``gps=True`` each file carries the true centre, plus isotropic gaussian
    noise of standard deviation ``gps_noise_m`` metres, as EXIF GPS.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    world = _make_world(seed)
    centers = _serpentine_centers(rows, cols, spacing_m, altitude_m)
    rotations = _jittered_nadir_rotations(len(centers), np.random.default_rng([seed, 4]))
    focal_px = 0.75 * width

    gps_positions = None
    if gps:
        noise = np.random.default_rng([seed, 5]).normal(0.0, gps_noise_m, centers.shape)
        gps_positions = enu_to_wgs84(centers + noise, ORIGIN_WGS84)

    focal_mm = focal_px * SENSOR_WIDTH_MM / width
    focal_35mm = int(round(focal_px * FULL_FRAME_WIDTH_MM / width))
    names = []
    for i, (center, rotation) in enumerate(zip(centers, rotations)):
        name = f"IMG_{i + 1:04d}.JPG"
        rgb = _render_view(world, center, rotation, focal_px, width, height)
        write_jpeg_with_exif(
            folder / name,
            rgb,
            make="Spaceport",
            model="SynthCam",
            focal_mm=focal_mm,
            focal_35mm=focal_35mm,
            gps=None if gps_positions is None else tuple(gps_positions[i]),
        )
        names.append(name)

    return SyntheticScene(
        folder=folder,
        names=names,
        centers_enu=centers,
        rotations=rotations,
        focal_px=focal_px,
        width=width,
        height=height,
        origin_wgs84=ORIGIN_WGS84,
        extent_m=_max_pairwise_distance(centers),
    )


def write_jpeg_with_exif(
    path: Path,
    rgb: np.ndarray,
    make: str | None,
    model: str | None,
    focal_mm: float | None,
    focal_35mm: int | None,
    gps: tuple[float, float, float] | None,
) -> None:
    """Write an (H, W, 3) uint8 image as a quality-95 JPEG with camera EXIF.

    ``focal_mm`` is the physical focal length in millimetres (FocalLength),
    ``focal_35mm`` the 35 mm-equivalent one in whole millimetres
    (FocalLengthIn35mmFilm).  ``gps`` is (latitude deg, longitude deg,
    altitude m); negative values are written with S / W / below-sea-level
    references.  Any argument given as None leaves its tag(s) out, which is
    handy for testing images with incomplete EXIF.
    """
    exif = Image.Exif()
    if make is not None:
        exif[TAG_MAKE] = make
    if model is not None:
        exif[TAG_MODEL] = model

    exif_ifd = exif.get_ifd(TAG_EXIF_IFD)
    if focal_mm is not None:
        exif_ifd[TAG_FOCAL_LENGTH] = _rational(focal_mm, 10_000)
    if focal_35mm is not None:
        exif_ifd[TAG_FOCAL_LENGTH_35MM] = int(focal_35mm)

    if gps is not None:
        lat, lon, alt = (float(v) for v in gps)
        gps_ifd = exif.get_ifd(TAG_GPS_IFD)
        gps_ifd[TAG_GPS_VERSION] = b"\x02\x03\x00\x00"
        gps_ifd[TAG_GPS_LAT_REF] = "N" if lat >= 0 else "S"
        gps_ifd[TAG_GPS_LAT] = _degrees_to_dms(abs(lat))
        gps_ifd[TAG_GPS_LON_REF] = "E" if lon >= 0 else "W"
        gps_ifd[TAG_GPS_LON] = _degrees_to_dms(abs(lon))
        gps_ifd[TAG_GPS_ALT_REF] = 0 if alt >= 0 else 1
        gps_ifd[TAG_GPS_ALT] = _rational(abs(alt), 1_000)

    Image.fromarray(np.asarray(rgb, dtype=np.uint8), "RGB").save(
        path, format="JPEG", quality=95, exif=exif
    )


def enu_to_wgs84(xyz_enu: np.ndarray, origin: tuple[float, float, float]) -> np.ndarray:
    """Convert (N, 3) ENU metres to (N, 3) (lat deg, lon deg, ellipsoidal alt m)."""
    lat0, lon0, alt0 = origin
    xyz = np.asarray(xyz_enu, dtype=np.float64).reshape(-1, 3)
    return np.asarray(pycolmap.GPSTransform().enu_to_ellipsoid(xyz, lat0, lon0, alt0))


# --- Cameras -------------------------------------------------------------------


def _serpentine_centers(rows: int, cols: int, spacing_m: float, altitude_m: float) -> np.ndarray:
    """(rows*cols, 3) camera centres in capture order, grid centred on the origin.

    Row r flies along +x (east) when r is even and -x when odd; rows step north.
    """
    xs = (np.arange(cols) - (cols - 1) / 2.0) * spacing_m
    ys = (np.arange(rows) - (rows - 1) / 2.0) * spacing_m
    centers = []
    for r, y in enumerate(ys):
        for x in xs if r % 2 == 0 else xs[::-1]:
            centers.append((x, y, altitude_m))
    return np.array(centers, dtype=np.float64).reshape(-1, 3)


def _jittered_nadir_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3, 3) world-to-camera rotations, looking down with image top = north.

    Each camera gets a yaw of up to +-5 deg and roll / pitch of up to +-3 deg.
    """
    # Columns are the camera x (east), y (south, image down), z (down) axes in ENU.
    nadir_cam_to_world = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    rotations = np.empty((n, 3, 3))
    for i in range(n):
        yaw, pitch, roll = np.radians(rng.uniform([-5, -3, -3], [5, 3, 3]))
        cam_to_world = _rot_z(yaw) @ nadir_cam_to_world @ _rot_x(pitch) @ _rot_y(roll)
        rotations[i] = cam_to_world.T
    return rotations


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _max_pairwise_distance(points: np.ndarray) -> float:
    """Largest Euclidean distance between any two of the (N, 3) points (0 if N < 2)."""
    if len(points) < 2:
        return 0.0
    diff = points[:, None, :] - points[None, :, :]
    return float(np.sqrt((diff**2).sum(-1)).max())


# --- World generation ----------------------------------------------------------


def _make_world(seed: int) -> _World:
    """Build terrain heights, buildings and texture from ``seed``."""
    heights = _make_heights(np.random.default_rng([seed, 1]))
    texture = _make_texture(np.random.default_rng([seed, 2]))
    buildings = _make_buildings(heights, np.random.default_rng([seed, 3]))
    dhdy, dhdx = np.gradient(heights, TERRAIN_CELL_M)
    slopes = np.stack([dhdx, dhdy], axis=-1).astype(np.float32)
    return _World(heights=heights, slopes=slopes, buildings=buildings, texture=texture)


def _make_heights(rng: np.random.Generator) -> np.ndarray:
    """(G, G) float32 terrain heights in metres: gaussian hills, zero at the origin.

    Grid cell (i, j) is at x = -TERRAIN_HALF_SIZE_M + j * TERRAIN_CELL_M and
    y = -TERRAIN_HALF_SIZE_M + i * TERRAIN_CELL_M.  Hills are 2-7 m high (or
    deep) with 12-30 m radius; the result is scaled down if needed so the
    steepest slope stays below MAX_TERRAIN_SLOPE.
    """
    n = int(round(2 * TERRAIN_HALF_SIZE_M / TERRAIN_CELL_M)) + 1
    coords = np.linspace(-TERRAIN_HALF_SIZE_M, TERRAIN_HALF_SIZE_M, n)
    x, y = np.meshgrid(coords, coords)
    h = 0.01 * x + 0.015 * y  # gentle regional tilt
    for _ in range(14):
        cx, cy = rng.uniform(-90, 90, size=2)
        sigma = rng.uniform(12, 30)
        amplitude = rng.uniform(2, 7) * rng.choice([-1.0, 1.0, 1.0])
        h += amplitude * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))

    gy, gx = np.gradient(h, TERRAIN_CELL_M)
    max_slope = float(np.hypot(gx, gy).max())
    if max_slope > MAX_TERRAIN_SLOPE:
        h *= MAX_TERRAIN_SLOPE / max_slope
    h -= h[n // 2, n // 2]
    return h.astype(np.float32)


def _make_buildings(
    heights: np.ndarray, rng: np.random.Generator, count: int = 8
) -> list[_Building]:
    """``count`` non-overlapping boxes near the origin, 8-22 m wide, 5-15 m tall.

    Each box goes from 1 m below the lowest ground under it to its height above
    the highest ground under it, so it always sits firmly on the terrain.
    """
    buildings: list[_Building] = []
    for _ in range(200):
        if len(buildings) == count:
            break
        size = rng.uniform(8, 22, size=2)
        center = rng.uniform(-45, 45, size=2)
        lo_xy, hi_xy = center - size / 2, center + size / 2
        if any(_boxes_overlap(lo_xy, hi_xy, b.lo[:2], b.hi[:2], margin=4.0) for b in buildings):
            continue
        ground = _heights_in_rect(heights, lo_xy, hi_xy)
        top = ground.max() + rng.uniform(5, 15)
        tint = rng.uniform([0.5, 0.4, 0.35], [1.2, 1.0, 1.0])
        buildings.append(
            _Building(
                lo=np.array([*lo_xy, ground.min() - 1.0]),
                hi=np.array([*hi_xy, top]),
                tint=tint,
            )
        )
    return buildings


def _boxes_overlap(lo_a, hi_a, lo_b, hi_b, margin: float) -> bool:
    """True if 2-D rectangles a and b come within ``margin`` metres of each other."""
    return bool(np.all(lo_a - margin < hi_b) and np.all(lo_b - margin < hi_a))


def _heights_in_rect(heights: np.ndarray, lo_xy: np.ndarray, hi_xy: np.ndarray) -> np.ndarray:
    """Flat array of grid heights inside the ENU rectangle [lo_xy, hi_xy] (metres)."""
    j0, i0 = np.floor((lo_xy + TERRAIN_HALF_SIZE_M) / TERRAIN_CELL_M).astype(int)
    j1, i1 = np.ceil((hi_xy + TERRAIN_HALF_SIZE_M) / TERRAIN_CELL_M).astype(int)
    return heights[i0 : i1 + 1, j0 : j1 + 1].ravel()


def _make_texture(rng: np.random.Generator) -> np.ndarray:
    """(T, T, 3) float32 periodic ground texture, values roughly in [0, 1].

    Layers: patchwork "fields" with sharp borders (quantised low-frequency
    noise), a few roads, multi-octave brightness and colour noise for
    blob-like detail at 0.4-6 m wavelengths, dark "bushes" and light "stones".
    """
    t = TEXTURE_TEXELS
    palette = np.array(
        [
            [0.36, 0.50, 0.22],  # grass
            [0.55, 0.45, 0.28],  # bare soil
            [0.70, 0.64, 0.42],  # dry field
            [0.25, 0.38, 0.20],  # dark crop
            [0.50, 0.50, 0.47],  # gravel
            [0.62, 0.36, 0.25],  # ploughed clay
        ],
        dtype=np.float32,
    )
    field_noise = _value_noise(rng, t, 6) + 0.5 * _value_noise(rng, t, 14)
    edges = np.quantile(field_noise[::4, ::4], np.linspace(0, 1, len(palette) + 1)[1:-1])
    field_ids = np.digitize(field_noise, edges)
    # Shuffle so neighbouring noise levels do not get neighbouring colours.
    texture = palette[rng.permutation(len(palette))][field_ids]

    road = np.abs(_value_noise(rng, t, 5)) < 0.025
    texture[road] = (0.30, 0.30, 0.32)

    detail = sum(0.75**k * _value_noise(rng, t, 32 * 2**k) for k in range(5))
    texture *= (1.0 + 0.3 * detail)[..., None]
    for c in range(3):
        texture[..., c] *= 1.0 + 0.12 * _value_noise(rng, t, 48)

    bushes = _value_noise(rng, t, 160) + 0.4 * _value_noise(rng, t, 320) > 0.62
    texture[bushes] *= np.array([0.35, 0.5, 0.3], dtype=np.float32)
    stones = _value_noise(rng, t, 400) > 0.8
    texture[stones] = texture[stones] * 0.5 + 0.45
    return np.clip(texture, 0.0, 1.0)


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """(size, size) float32 periodic value noise with ``cells`` random values per side.

    Random values in [-1, 1] on a cells x cells lattice, interpolated with a
    smoothstep-weighted bilinear blend; the result tiles seamlessly.  The blend
    is separable and linear, so it is done as W @ lattice @ W.T with W the
    (size, cells) interpolation matrix.
    """
    lattice = rng.uniform(-1.0, 1.0, size=(cells, cells)).astype(np.float32)
    pos = np.arange(size) * (cells / size)
    i0 = np.floor(pos).astype(int)
    f = pos - i0
    w = f * f * (3.0 - 2.0 * f)  # smoothstep
    weights = np.zeros((size, cells), dtype=np.float32)
    weights[np.arange(size), i0] = 1.0 - w
    weights[np.arange(size), (i0 + 1) % cells] += w
    return weights @ lattice @ weights.T


# --- Rendering -----------------------------------------------------------------

# Surface kinds hit by a ray.
_TERRAIN, _ROOF, _X_WALL, _Y_WALL = 0, 1, 2, 3


def _render_view(
    world: _World,
    center: np.ndarray,
    rotation: np.ndarray,
    focal_px: float,
    width: int,
    height: int,
) -> np.ndarray:
    """Ray-cast one (height, width, 3) uint8 pinhole image of ``world``.

    ``center`` is the (3,) camera centre in ENU metres, ``rotation`` the (3, 3)
    world-to-camera rotation, ``focal_px`` the focal length in pixels; the
    principal point is the image centre and there is no distortion.  Shading
    is Lambertian under a fixed sun, so colours do not depend on the viewpoint.
    """
    origin = np.asarray(center, dtype=np.float32)
    dirs = _pixel_rays(rotation, focal_px, width, height)  # (P, 3)
    if np.any(dirs[:, 2] >= -1e-3):
        raise ValueError("every pixel must look downwards; camera tilt is too large")

    t = _intersect_terrain(world.heights, origin, dirs)
    kind = np.full(len(t), _TERRAIN, dtype=np.int8)
    tint = np.ones((len(t), 3), dtype=np.float32)
    for b in world.buildings:
        t_box, box_kind = _intersect_box(origin, dirs, b.lo, b.hi)
        closer = t_box < t
        t[closer] = t_box[closer]
        kind[closer] = box_kind[closer]
        tint[closer] = b.tint

    points = origin + t[:, None] * dirs
    normals = _surface_normals(world.slopes, points, kind, dirs)
    shade = AMBIENT + (1 - AMBIENT) * np.clip(normals @ _unit(SUN_DIRECTION), 0.0, 1.0)
    colour = _sample_texture(world.texture, *_texture_coords(points, kind))
    rgb = colour * tint * shade[:, None].astype(np.float32)
    rgb = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return rgb.reshape(height, width, 3)


def _pixel_rays(rotation: np.ndarray, focal_px: float, width: int, height: int) -> np.ndarray:
    """(H*W, 3) float32 world-frame ray directions through pixel centres, row-major.

    Directions are R.T @ (x, y, 1) with (x, y) the normalised pixel coordinates,
    i.e. x * R[0] + y * R[1] + R[2] (rows of R are the camera axes in ENU).
    """
    r = np.asarray(rotation, dtype=np.float32)
    x = ((np.arange(width, dtype=np.float32) + 0.5 - width / 2.0) / focal_px)[None, :, None]
    y = ((np.arange(height, dtype=np.float32) + 0.5 - height / 2.0) / focal_px)[:, None, None]
    return (x * r[0] + y * r[1] + r[2]).reshape(-1, 3)


def _intersect_terrain(heights: np.ndarray, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """(P,) ray parameters where downward rays origin + t * dirs meet the terrain.

    Fixed-point iteration on the hit height z: z <- h(xy of the ray at height z).
    Each step is a contraction (terrain slope times the ray's horizontal /
    vertical ratio is below 1) because slopes are capped at MAX_TERRAIN_SLOPE and
    rays stay well within 70 deg of nadir, so it converges to the one and only
    crossing.
    """
    slope_x, slope_y = dirs[:, 0] / dirs[:, 2], dirs[:, 1] / dirs[:, 2]
    z = np.zeros(len(dirs), dtype=np.float32)
    active = np.arange(len(dirs))  # rays that have not converged yet
    for _ in range(50):
        drop = z[active] - origin[2]
        x = origin[0] + drop * slope_x[active]
        y = origin[1] + drop * slope_y[active]
        z_new = _terrain_lookup(heights, x, y)
        moving = np.abs(z_new - z[active]) > 1e-4
        z[active] = z_new
        active = active[moving]
        if len(active) == 0:
            break
    return (z - origin[2]) / dirs[:, 2]


def _intersect_box(
    origin: np.ndarray, dirs: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Slab test of (P, 3) rays from ``origin`` against the box [lo, hi].

    Returns (t, kind), both (P,): the entry parameter (inf where the ray misses)
    and which face was entered (_X_WALL, _Y_WALL or _ROOF).
    """
    t_near, t_far = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in range(3):
            inv = 1.0 / dirs[:, axis]
            t_lo = (np.float32(lo[axis]) - origin[axis]) * inv
            t_hi = (np.float32(hi[axis]) - origin[axis]) * inv
            t_near.append(np.minimum(t_lo, t_hi))
            t_far.append(np.maximum(t_lo, t_hi))
    t_enter = np.maximum(np.maximum(t_near[0], t_near[1]), t_near[2])
    t_exit = np.minimum(np.minimum(t_far[0], t_far[1]), t_far[2])
    hit = (t_enter <= t_exit) & (t_enter > 0)
    kind = np.where(
        t_enter == t_near[2], _ROOF, np.where(t_enter == t_near[0], _X_WALL, _Y_WALL)
    ).astype(np.int8)
    return np.where(hit, t_enter, np.float32(np.inf)), kind


def _surface_normals(
    slopes: np.ndarray, points: np.ndarray, kind: np.ndarray, dirs: np.ndarray
) -> np.ndarray:
    """(P, 3) unit outward normals at (P, 3) hit points, by surface kind."""
    grad = _terrain_lookup(slopes, points[:, 0], points[:, 1])  # (P, 2)
    normals = np.concatenate([-grad, np.ones((len(grad), 1), dtype=grad.dtype)], axis=1)
    normals[kind == _ROOF] = (0.0, 0.0, 1.0)
    for wall_kind, axis in ((_X_WALL, 0), (_Y_WALL, 1)):
        wall = kind == wall_kind
        normals[wall] = 0.0
        normals[wall, axis] = -np.sign(dirs[wall, axis])  # the face looking back at the ray
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def _texture_coords(points: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P,) texture coordinates in metres: ground and roofs use (x, y), walls (along-wall, z).

    Roof and wall coordinates are offset so they do not continue the ground
    pattern (roads etc.) underneath.
    """
    s, t = points[:, 0].copy(), points[:, 1].copy()
    roof, x_wall, y_wall = kind == _ROOF, kind == _X_WALL, kind == _Y_WALL
    s[roof] += 29.0
    t[roof] += 47.0
    s[x_wall], t[x_wall] = points[x_wall, 1] + 61.0, 2.0 * points[x_wall, 2] + 37.0
    s[y_wall], t[y_wall] = points[y_wall, 0] + 83.0, 2.0 * points[y_wall, 2] + 91.0
    return s, t


def _terrain_lookup(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear sample of a terrain-aligned (G, G, ...) grid at (P,) ENU x, y in metres.

    Positions outside the grid are clamped to its edge.
    """
    limit = grid.shape[0] - 1.001
    gx = np.clip((x + TERRAIN_HALF_SIZE_M) * (1.0 / TERRAIN_CELL_M), 0, limit)
    gy = np.clip((y + TERRAIN_HALF_SIZE_M) * (1.0 / TERRAIN_CELL_M), 0, limit)
    j, i = gx.astype(np.intp), gy.astype(np.intp)
    return _bilinear(grid, i, j, i + 1, j + 1, gy - i, gx - j)


def _sample_texture(texture: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(P, 3) bilinear, wrapping lookup of a (T, T, 3) texture at (P,) s, t in metres."""
    n = texture.shape[0]
    gs = (s * (n / TEXTURE_PERIOD_M)) % n
    gt = (t * (n / TEXTURE_PERIOD_M)) % n
    j, i = gs.astype(np.intp), gt.astype(np.intp)
    return _bilinear(texture, i % n, j % n, (i + 1) % n, (j + 1) % n, gt - i, gs - j)


def _bilinear(grid, i0, j0, i1, j1, fi, fj) -> np.ndarray:
    """Blend grid[i0|i1, j0|j1] (row, column indices, (P,) each) with fractions fi, fj.

    ``grid`` is (R, C) or (R, C, K); returns (P,) or (P, K) respectively.
    """
    flat = grid.reshape(grid.shape[0] * grid.shape[1], -1)
    if grid.ndim == 2:
        flat = flat[:, 0]
    else:
        fi, fj = fi[:, None], fj[:, None]
    cols = grid.shape[1]
    row0, row1 = i0 * cols, i1 * cols

    def at(index):
        return np.take(flat, index, axis=0)

    top = at(row0 + j0) * (1 - fj) + at(row0 + j1) * fj
    bottom = at(row1 + j0) * (1 - fj) + at(row1 + j1) * fj
    return top * (1 - fi) + bottom * fi


def _unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length, as float32."""
    return (np.asarray(v, dtype=np.float64) / np.linalg.norm(v)).astype(np.float32)


def _rational(value: float, denominator: int) -> IFDRational:
    """Non-negative ``value`` as an EXIF rational with the given denominator.

    EXIF rationals hold 32-bit unsigned numerators, so value * denominator must
    stay below 2**32 (e.g. altitudes in mm up to 4000 km).
    """
    numerator = round(value * denominator)
    if not 0 <= numerator < 2**32:
        raise ValueError(f"{value} does not fit an EXIF rational with denominator {denominator}")
    return IFDRational(numerator, denominator)


def _degrees_to_dms(degrees: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Non-negative decimal degrees as EXIF (degrees, minutes, seconds) rationals.

    Seconds keep 1e-5 arcsec resolution (about 0.3 mm on the ground); rounding
    happens once, on the total, so seconds never read 60.
    """
    units_per_second = 100_000
    total = round(degrees * 3600 * units_per_second)
    whole_deg, rest = divmod(total, 3600 * units_per_second)
    whole_min, seconds = divmod(rest, 60 * units_per_second)
    return (
        IFDRational(whole_deg, 1),
        IFDRational(whole_min, 1),
        IFDRational(seconds, units_per_second),
    )
