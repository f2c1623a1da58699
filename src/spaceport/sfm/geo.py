"""Putting a reconstruction into a useful frame: metric east-north-up from GPS, or normalized.

Positions are (N, 3) float64 arrays. ENU: x east, y north, z up, metres, around an origin
given as (latitude deg, longitude deg, altitude m) on the WGS84 ellipsoid.
"""

from __future__ import annotations

import numpy as np
import pycolmap

GPS = pycolmap.GPSTransform(pycolmap.GPSTransformEllipsoid.WGS84)


def to_enu(lat_lon_alt: np.ndarray, origin: tuple[float, float, float]) -> np.ndarray:
    """(N, 3) latitude, longitude (deg), altitude (m) -> (N, 3) ENU metres around `origin`."""
    return GPS.ellipsoid_to_enu(np.asarray(lat_lon_alt, dtype=np.float64), *origin)


def to_wgs84(enu: np.ndarray, origin: tuple[float, float, float]) -> np.ndarray:
    """(N, 3) ENU metres around `origin` -> (N, 3) latitude, longitude (deg), altitude (m)."""
    return GPS.enu_to_ellipsoid(np.asarray(enu, dtype=np.float64), *origin)


def is_degenerate(positions: np.ndarray, min_spread_ratio: float = 0.02) -> bool:
    """True when (N, 3) positions are too few or lie on a line: a similarity is then ambiguous."""
    if len(positions) < 3:
        return True
    centred = positions - positions.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    return singular[0] <= 0 or singular[1] < min_spread_ratio * singular[0]


def camera_centers(reconstruction: pycolmap.Reconstruction, names: list[str]) -> np.ndarray:
    """(N, 3) projection centres of the registered images called `names`."""
    return np.array([reconstruction.find_image_with_name(name).projection_center() for name in names])


def align_to_positions(
    reconstruction: pycolmap.Reconstruction, names: list[str], targets: np.ndarray, inlier_m: float
) -> np.ndarray | None:
    """Move `reconstruction` so the named cameras best match (N, 3) `targets` (robust similarity).

    Returns the (N, 3) distances, metres, between aligned centres and targets, or None if no
    alignment was found (the reconstruction is then unchanged).
    """
    ransac = pycolmap.RANSACOptions(max_error=inlier_m, random_seed=0)
    transform = pycolmap.align_reconstruction_to_locations(reconstruction, names, targets, 3, ransac)
    if transform is None:
        return None
    reconstruction.transform(transform)
    return np.linalg.norm(camera_centers(reconstruction, names) - targets, axis=1)


def points_center(reconstruction: pycolmap.Reconstruction) -> np.ndarray:
    """(3,) median of the sparse points (robust to stray points); camera mean if there are none."""
    xyz = np.array([point.xyz for point in reconstruction.points3D.values()])
    if len(xyz) == 0:
        xyz = np.array([image.projection_center() for image in reconstruction.images.values() if image.has_pose])
    return np.median(xyz, axis=0)


def translate(reconstruction: pycolmap.Reconstruction, offset: np.ndarray) -> None:
    """Add (3,) `offset` to every camera centre and point."""
    reconstruction.transform(pycolmap.Sim3d(1.0, pycolmap.Rotation3d(), np.asarray(offset, dtype=np.float64)))


def normalize(reconstruction: pycolmap.Reconstruction) -> None:
    """Without GPS: z up, scene centre (median of points) at the origin, camera centres
    within a sphere of radius 1."""
    images = [image for image in reconstruction.images.values() if image.has_pose]
    up = estimate_up(
        np.array([image.projection_center() for image in images]),
        np.array([image.viewing_direction() for image in images]),
        np.array([image.cam_from_world().rotation.matrix().T @ [0.0, 1.0, 0.0] for image in images]),
    )
    rotation = rotation_between(up, np.array([0.0, 0.0, 1.0]))
    reconstruction.transform(pycolmap.Sim3d(1.0, pycolmap.Rotation3d(rotation), np.zeros(3)))
    translate(reconstruction, -points_center(reconstruction))
    centres = np.array([image.projection_center() for image in images])
    radius = np.linalg.norm(centres, axis=1).max()
    if radius > 0:
        reconstruction.transform(pycolmap.Sim3d(1.0 / radius, pycolmap.Rotation3d(), np.zeros(3)))


def estimate_up(centres: np.ndarray, views: np.ndarray, downs: np.ndarray) -> np.ndarray:
    """(3,) unit up vector from (N, 3) camera centres, viewing directions and image-down directions.

    Drone and walk-around captures keep their cameras at about one height, so the normal of
    the plane through the centres is vertical; its sign is the one opposing where cameras
    look plus where their images point down (nadir: the view; upright: the image's down).
    With the centres on a line the plane is undefined and that sum alone decides.
    """
    hint = -(views.mean(axis=0) + downs.mean(axis=0))
    hint /= np.linalg.norm(hint)
    if len(centres) < 3:
        return hint
    _, singular, vt = np.linalg.svd(centres - centres.mean(axis=0))
    if singular[1] < 0.1 * singular[0] or singular[2] > 0.5 * singular[1]:
        return hint
    normal = vt[2]
    return normal if normal @ hint >= 0 else -normal


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3, 3) rotation turning unit vector `a` onto unit vector `b` (Rodrigues)."""
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(np.dot(a, b))
    if sin < 1e-12:
        if cos > 0:
            return np.eye(3)
        perpendicular = np.eye(3)[np.argmin(np.abs(a))]
        axis = np.cross(a, perpendicular)
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = axis / sin
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * skew + (1 - cos) * skew @ skew
