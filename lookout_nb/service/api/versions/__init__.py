"""The second half of the API, composed on the same :class:`~..core.Core`: model versions (every training makes
one; the active one is what inference schedulers score with), retraining schedulers, UpdateModel, sensor
statistics of an ingestion, ImportDataset / ImportModelVersion and resource policies.

The first half's modules (models, datasets, labels, schedulers) never import this room: :class:`..backend.Backend`
wires it to them (the models service tells :attr:`.versions.Versions` when a training ends).
"""
