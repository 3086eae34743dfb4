"""Where S3 objects live: moto for the protocol, written through to disk (:mod:`.objects`, :mod:`.writethrough`),
bodies read from their files and GETs streamed (:mod:`.diskbody`, :mod:`.streaming`), checked by :mod:`.fsck`;
read and written in-process by the runner (:mod:`.inprocess`), stamped with the service clock (:mod:`.s3clock`);
or the user's own S3 (:mod:`.externals3`); the datasets' data files (:mod:`.datafiles`). :mod:`.motos3` is the only
module that touches moto."""
