"""Marking English text that is translated where it is shown, not where it is written.

Plain Python keeps its messages in English (the API and logs use them as they are); a page shows the
same text through gettext. ``N_`` marks such a message so ``pybabel extract`` collects it into the
catalogs (``N_`` is one of Babel's default keywords) and the translation test asks for its Chinese.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the gettext convention's name for "translate later"
    """Return ``message`` unchanged; only marks it for extraction."""
    return message
