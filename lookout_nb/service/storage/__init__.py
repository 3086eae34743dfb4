"""Where S3 objects live: moto for the protocol, written through to disk (:mod:`.objects`, :mod:`.writethrough`),
PUT bodies received straight into a file (:mod:`.putbody`), bodies read from their files and GETs streamed
(:mod:`.diskbody`, :mod:`.streaming`), a versioned bucket's older versions and uploads in progress kept too
(:mod:`.keep`), checked by :mod:`.fsck`; read and written in-process by the runner (:mod:`.inprocess`), stamped with
the service clock (:mod:`.s3clock`); or the user's own S3 (:mod:`.externals3`); the datasets' data files
(:mod:`.datafiles`). :mod:`.moto` is the only package that touches moto; imports point one way: the modules here and
:mod:`.keep` use :mod:`.moto`, which uses none of them (but :mod:`.diskbody`)."""
