"""The durable state of a ``state_dir``: state.db (:mod:`.store`, SQLite, one transaction per change), its
timestamp encoding (:mod:`.state`) and the one-process-per-directory lock (:mod:`.owner`). It knows no record of
the API: :mod:`lookout_nb.service.api.restore` builds them from its rows."""
