"""Ingestion (:mod:`.ingest`), training and scoring (:mod:`.training`) and the detector (:mod:`.detector`): numpy and
pandas on frames; no HTTP, no S3 storage, no moto, no API records (checked by lint-imports)."""
