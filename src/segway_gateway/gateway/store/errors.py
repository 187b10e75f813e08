"""What the repositories raise, independent of the database driver."""


class StoreError(Exception):
    """Root of the store's errors."""


class AlreadyExists(StoreError):
    """A record with this key exists already."""


class NotFound(StoreError):
    """No record with this key."""
