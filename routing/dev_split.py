"""Which written examples are kept back for tuning: a fixed fifth, chosen by a hash of the text.

The independent calls (``routing.training``) and the danger phrasings (``routing.sign_training``)
are split alike, so that a text is on the same side wherever it appears.
"""

from __future__ import annotations

import hashlib


def is_dev(text: str) -> bool:
    """Whether a written example is kept back for tuning (a fixed fifth, by the text's SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 5 == 0
