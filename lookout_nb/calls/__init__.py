"""The toolkit's calls: boto3 operations on the Lookout for Equipment API and S3, as a notebook wants them.

Schedulers (:mod:`.scheduler`), models (:mod:`.models`), datasets and ingestion (:mod:`.datasets`,
:mod:`.datafolder`), labels (:mod:`.labels`) and a model's evaluation (:mod:`.evaluation`); typed errors and every
page of a listing (:mod:`._service`), tables (:mod:`._tables`) and waiting (:mod:`._wait`). Every function takes
``client=`` / ``s3=`` / ``session=``. It imports the contract below it, never the pictures, the wizard or the
service.
"""
