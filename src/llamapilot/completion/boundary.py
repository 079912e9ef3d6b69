"""Token boundaries: where to cut a prompt so a BPE model can continue it naturally.

A prompt that ends in the middle of a word, or in the next line's indentation, puts the
model in a place it rarely saw in training: the tokenizer would have merged those characters
with what follows. Given a prefix ending in ``"\\n    "``, a small model most often answers
with another newline. So the prompt is cut back before the unstable tail and the tail is
handed to the engine as a forced prefix: the first generated tokens must reproduce it
(each token agrees with what is left of it), which lets the model pick the tokenization.
"""

from __future__ import annotations

import re

_TAIL = re.compile(r"(\n[ \t]*|[ \t]+|[A-Za-z0-9_]+|[^\sA-Za-z0-9_]{1,2})\Z")
MAX_HEAL_CHARS = 32


def healing_split(prefix: str) -> tuple[str, str]:
    """Split ``prefix`` into (kept, tail): the tail is regenerated under constraint.

    The tail is the trailing indentation with its newline, or trailing blanks, or the
    partial identifier, or one or two trailing punctuation characters — the characters a
    tokenizer would merge with what comes next. Indentation after a partial word is
    included too (``"\\n    ret"`` → tail ``"\\n    ret"``).
    """
    if not prefix:
        return "", ""
    m = _TAIL.search(prefix)
    if m is None:
        return prefix, ""
    start = m.start()
    # a partial word right after indentation: take the indentation and newline too
    if prefix[start : start + 1] not in ("\n", " ", "\t"):
        ws = re.search(r"\n[ \t]*\Z", prefix[:start])
        if ws is not None:
            start = ws.start()
    if len(prefix) - start > MAX_HEAL_CHARS:
        start = len(prefix) - MAX_HEAL_CHARS
    return prefix[:start], prefix[start:]
