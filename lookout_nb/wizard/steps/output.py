"""Step 4, Output: where the scheduler writes its results, and the KMS key that encrypts them.

>>> step = OutputStep()
>>> step.bucket.value = "my-output"
>>> step.bucket.value, step.kms.value
('my-output', None)
"""

from __future__ import annotations

import ipywidgets as widgets

from ..fields import text_field


class OutputStep:
    """Output bucket, prefix and optional KMS key."""

    title = "4 Output"

    def __init__(self):
        self.bucket = text_field("output_bucket", "Output bucket", placeholder="my-output-bucket")
        self.prefix = text_field(
            "output_prefix", "Output prefix", placeholder="output/",
            hint="Empty, or ending with / . Each run writes results.jsonl in a folder named by its time.",
        )
        self.kms = text_field(
            "output_kms_key_id", "Output KMS key", placeholder="optional: key id, alias or ARN",
            hint="Leave empty to use the bucket's default encryption.",
        )
        self.fields = [self.bucket, self.prefix, self.kms]
        self.box = widgets.VBox(
            [widgets.HTML("<b>Where should the results go?</b>"), self.bucket.box, self.prefix.box, self.kms.box]
        )
