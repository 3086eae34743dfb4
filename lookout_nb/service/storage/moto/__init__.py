"""The only code that touches moto (its internals change between releases: one place to check on an upgrade; the
import contract "moto-in-storage-moto" of pyproject.toml holds every other module to it): :mod:`.motos3` the buckets,
objects and backend hooks, :mod:`.keyversions` a key's versions, :mod:`.multipart` multipart uploads,
:mod:`.arriving` a PUT body already on disk, :mod:`.untracked` moto's record of every instance it made, kept to
those alive."""
