"""Errors a user can act on.

Every error raised for bad input or a failed stage is a `SpaceportError` whose message
names the problem and what to do (which file, which option, which limit). The CLI prints
it on one line; the API turns it into an HTTP 4xx.
"""


class SpaceportError(Exception):
    """A problem the user can fix; its message is shown as it is."""


class InputError(SpaceportError):
    """The photos, archive or URL given cannot be used."""


class StageError(SpaceportError):
    """A stage ran but its result is not good enough to pass on."""


class Cancelled(SpaceportError):
    """The work was stopped on request."""
