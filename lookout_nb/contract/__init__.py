"""The contract: what the Lookout for Equipment API accepts and how a scheduler behaves, as pure rules.

The request and its checks (:mod:`.request`, :mod:`.servicemodel`), the input-file naming (:mod:`.naming`,
:mod:`.s3keys`), a model's schema (:mod:`.schema`), the schedule's maths (:mod:`.timing`, :mod:`.filematch`), the
one reader of input files and of label rows (:mod:`.inputfiles`, :mod:`.labelrows`), and the service's time
(:mod:`.servicetime`, the one "now"; :mod:`._aws` makes a client only when a caller asks for one). It imports
only :mod:`lookout_nb.errors` and :mod:`lookout_nb._palette`; the toolkit's calls and views and the embedded
service build on it.
"""
