"""Spaceport: drone photos to compressed 3D Gaussian Splat scenes for the web."""

# The system zlib must be loaded before pycolmap. pycolmap's extension links its own zlib
# (1.3.x) statically and exports it, and also depends on the system libz.so.1; when the
# system libz is first loaded as pycolmap's dependency, libz's internal calls (deflateInit2_
# -> deflateReset ...) bind to pycolmap's copy, whose state layout differs, and every later
# PNG written by Pillow corrupts the heap (a training run aborted with "corrupted size vs.
# prev_size" while writing its previews). Loaded here first, libz binds to itself.
import zlib  # noqa: F401

__version__ = "0.1.0"
