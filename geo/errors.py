"""User-facing errors.

Every error meant for a user carries a French message that names the file,
line or field at fault. Pages and the command line show ``str(error)`` and
never a traceback.
"""


class DataError(Exception):
    """A problem with input data or a data source, explained in French."""


class DownloadError(DataError):
    """A download failed (no network, HTTP error, truncated or corrupt file)."""
