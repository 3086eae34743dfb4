"""Where S3 objects live: moto for the protocol, written through to disk (:mod:`.objects`, :mod:`.writethrough`),
read and written in-process by the runner (:mod:`.inprocess`), stamped with the service clock (:mod:`.s3clock`);
the datasets' data files (:mod:`.datafiles`). :mod:`.motos3` is the only module that touches moto."""
