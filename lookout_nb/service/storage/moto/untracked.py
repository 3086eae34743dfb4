"""moto's S3 models without its record of every instance ever made: memory follows the objects kept, not the PUTs.

moto appends every instance of its S3 models (each ``FakeKey``, with its ``FakeAcl``, grants and grantees) to a
list on the class, ``instances_tracked``, for its dashboard and its reset. Nothing ever removes them, so each PUT
(one that replaces a key, a runner's results object, a deleted object) kept about 3.3 KiB for ever, bodies aside.
:func:`install` makes each of those lists a :class:`Alive`: the same ``append`` and iteration, holding only
the instances still alive (weak references).

>>> class Key: pass
>>> alive, key = Alive(), Key()
>>> alive.append(key); len(list(alive))
1
>>> del key; len(list(alive))
0
"""

from __future__ import annotations

import functools
import weakref


class Alive:
    """A list's ``append`` and iteration over the instances appended that are still alive."""

    def __init__(self, instances=()) -> None:
        self._alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        for instance in instances:
            self.append(instance)

    def append(self, instance) -> None:
        self._alive[id(instance)] = instance  # an id is reused only once the entry has gone with its instance

    def __iter__(self):
        return iter(list(self._alive.values()))

    def __len__(self) -> int:
        return len(self._alive)


@functools.lru_cache(maxsize=1)
def install() -> None:
    """Make ``instances_tracked`` of every moto S3 model an :class:`Alive` (once per process)."""
    from moto.core.model_instances import model_data

    for model in model_data["s3"].values():
        tracked = getattr(model, "instances_tracked", None)
        if tracked is not None and not isinstance(tracked, Alive):
            setattr(model, "instances_tracked", Alive(tracked))  # noqa: B010 - moto declares it on the metaclass
