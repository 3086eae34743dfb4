"""Step 5, Access and tags: the IAM role the scheduler uses, the server-side KMS key, and tags.

>>> step = AccessStep()
>>> step.role.value = "arn:aws:iam::123456789012:role/L4E"
>>> [f.name for f in step.fields]
['role_arn', 'server_side_kms_key_id', 'tags']
"""

from __future__ import annotations

import ipywidgets as widgets

from ..fields import text_field
from .tags import TagsEditor


class AccessStep:
    """Role ARN, server-side KMS key and the tags editor."""

    title = "5 Access & tags"

    def __init__(self):
        self.role = text_field(
            "role_arn", "Role ARN", placeholder="arn:aws:iam::123456789012:role/LookoutEquipmentAccess",
            hint="A role the service assumes to read the input bucket and write the output bucket.",
        )
        self.kms = text_field(
            "server_side_kms_key_id", "Server-side KMS key", placeholder="optional: key id, alias or ARN",
            hint="Encrypts the scheduler's own data; leave empty for an AWS-owned key.",
        )
        self.tags = TagsEditor()
        self.fields = [self.role, self.kms, self.tags]
        self.box = widgets.VBox(
            [widgets.HTML("<b>Which role, which key, which tags?</b>"), self.role.box, self.kms.box, self.tags.box]
        )
