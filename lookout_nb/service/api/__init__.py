"""The resources of the Lookout for Equipment API and their rules: services (:mod:`.schedulers`, :mod:`.models`,
:mod:`.datasets`, :mod:`.labels`) sharing one declared core (:mod:`.core`), composed by :mod:`.backend`; the
plain records and their loading from state.db (:mod:`.restore`). It may import learning/, work/, storage/,
state/ and clock, never http/, runner/ or demo/."""
