"""What a versioned bucket and a multipart upload hold besides a key's current version, kept on disk like it:
:mod:`.versions` every older version and delete marker, :mod:`.uploads` uploads in progress and their parts. Both are
written in :class:`..objects.ObjectStore`'s group commit and read moto through :mod:`..moto` only."""
