"""Finding and replacing secret-looking strings before anything is stored.

Used by the audit log (and usable by anything else that persists text). Redaction keeps
line breaks, so line numbers in redacted text stay right.

Text that is stored in pieces (a prompt followed by generated tokens) is redacted as one
string with :func:`redact_pieces`, so a key split across two tokens, or cut by the prompt's
token boundary, is still found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

REDACTED = "<redacted>"

PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?"
    r"(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
_TOKENS = [
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    r"\bglpat-[A-Za-z0-9_\-]{20,}\b",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b",  # Slack
    r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic
    r"\bAIza[0-9A-Za-z_\-]{35}\b",  # Google API key
    r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b",  # Stripe
    r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bey[JI][A-Za-z0-9_\-]{10,}\.ey[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",  # JWT
]
TOKENS = re.compile("|".join(_TOKENS))
SECRET_NAME = re.compile(
    r"(?i)password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|"
    r"private[_\-]?key|auth[_\-]?key|credential"
)
"""Words that make a variable name secret-sounding."""
_NAME_WORDS = ("pass", "pwd", "secret", "token", "key", "credential")
"""Cheap test before the assignment patterns: every SECRET_NAME match holds one of these."""
# The name is matched as a whole identifier (the lookbehind stops the search from trying
# every position inside one, which made the pattern quadratic) and checked for
# SECRET_NAME afterwards.
_NAME = r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]+)"
ASSIGNED = re.compile(_NAME + r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*([\"'])(?P<value>[^\"'\s]{6,})\2")
"""``password = "value"``: a secret-sounding name assigned a quoted value."""
ASSIGNED_BARE = re.compile(
    r"(?m)^[ \t]*(?:export[ \t]+)?" + _NAME + r"[ \t]*=[ \t]*"
    r"(?P<value>(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9_\-+/=.:~@%]{6,})[ \t]*$"
)
"""``API_KEY=value`` lines as in ``.env`` files and shell scripts (values with a digit and a
letter, so ``token = next_token`` in code is left alone)."""
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:(?P<value>[^\s@/\"']+)@")


def _plausible_secret(value: str) -> bool:
    # "snake_case_words", "CONSTANT_NAMES" and "${VAR}" references are names, not secrets
    if value.startswith(("$", "{{", "%(", "<")):
        return False
    return not re.fullmatch(r"[a-z_.\-]+|[A-Z_]+", value)


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` spans of secret-looking strings in ``text``."""
    spans: list[tuple[int, int]] = []
    if "PRIVATE KEY" in text:
        spans += [m.span() for m in PRIVATE_KEY.finditer(text)]
    spans += [m.span() for m in TOKENS.finditer(text)]
    lowered = text.lower()
    named = any(w in lowered for w in _NAME_WORDS)
    assigned = (ASSIGNED, ASSIGNED_BARE) if named else ()
    for pattern in assigned:
        for m in pattern.finditer(text):
            if SECRET_NAME.search(m.group("name")) and _plausible_secret(m.group("value")):
                spans.append(m.span("value"))
    if "://" in text:
        for m in URL_PASSWORD.finditer(text):
            if _plausible_secret(m.group("value")):
                spans.append(m.span("value"))
    return merge_spans(spans)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redact(text: str) -> str:
    """``text`` with secret-looking strings replaced by ``<redacted>`` (line breaks kept)."""
    return redact_pieces([text])[0]


def redact_pieces(pieces: Sequence[str]) -> list[str]:
    """Redact consecutive pieces of one text as if joined.

    A secret that spans pieces is replaced in the piece where it starts; the other pieces
    lose their part of it. Joining the result equals ``redact("".join(pieces))``.
    """
    return apply_spans(pieces, secret_spans("".join(pieces)))


def apply_spans(pieces: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[str]:
    """Redact ``spans`` (offsets into the joined pieces, as from :func:`secret_spans`) in
    ``pieces``. Spans may reach past the end: ``spans`` of a longer text that starts with
    the joined pieces redact at least as much as the pieces' own spans."""
    joined = "".join(pieces)
    if not spans:
        return list(pieces)
    out: list[str] = []
    pos = 0
    for piece in pieces:
        a, b = pos, pos + len(piece)
        pos = b
        parts: list[str] = []
        cur = a
        for s, e in spans:
            if e <= a or s >= b:
                continue
            if s > cur:
                parts.append(joined[cur:s])
            # the piece where the secret starts holds the marker; every piece keeps its
            # own line breaks from inside the secret
            marker = REDACTED if s >= a else ""
            parts.append(marker + "\n" * joined[max(s, a) : min(e, b)].count("\n"))
            cur = min(e, b)
        parts.append(joined[cur:b])
        out.append("".join(parts))
    return out


def contains_secret(text: str) -> bool:
    return bool(secret_spans(text))
