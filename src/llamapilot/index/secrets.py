"""Keeping secrets out of the index: files that hold secrets are never read, and
secret-looking strings in other files are replaced before anything is stored.

Redaction keeps line breaks, so line numbers stay right.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from llamapilot.redact import PRIVATE_KEY, REDACTED

SECRET_FILE_NAMES = re.compile(
    r"^(\.env(\..*)?|.*\.env|\.envrc|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|.*\.(pem|key|p12|pfx|jks|"
    r"keystore|kdbx|asc|gpg|ppk|tfstate|tfvars)|\.netrc|_netrc|\.npmrc|\.pypirc|\.git-credentials|"
    r"\.htpasswd|\.dockercfg|credentials(\.json)?|secrets?\.(json|ya?ml|toml|ini|env)|"
    r"service[-_]account.*\.json|known_hosts|authorized_keys)$",
    re.IGNORECASE,
)
SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure"})

_TOKENS = [
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    r"\bglpat-[A-Za-z0-9_\-]{20,}\b",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b",  # Slack
    r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}\b",  # OpenAI, Anthropic
    r"\bAIza[0-9A-Za-z_\-]{35}\b",  # Google API key
    r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b",  # Stripe
    r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bey[JI][A-Za-z0-9_\-]{10,}\.ey[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b",  # JWT
]
TOKENS = re.compile("|".join(_TOKENS))
# name = "value" where the name says secret; the value must not look like prose or a name
ASSIGNED = re.compile(
    r"(?i)((?:[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|"
    r"access[_\-]?key|private[_\-]?key|auth[_\-]?key|credential)s?[A-Za-z0-9_.\-]*)[\"']?"
    r"\s*(?::=|=>|[:=])\s*)([\"'])([^\"'\s]{8,})\2"
)
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:)([^\s@/\"']+)(@)")


def is_secret_file(rel: str) -> bool:
    """Files that hold credentials by convention; they are never read into the index."""
    p = PurePosixPath(rel)
    if any(part in SECRET_DIRS for part in p.parts[:-1]):
        return True
    name = p.name
    if name.lower() in {".env.example", ".env.sample", ".env.template", ".env.dist"}:
        return False
    return bool(SECRET_FILE_NAMES.match(name))


def holds_private_key(text: str) -> bool:
    return "PRIVATE KEY" in text and PRIVATE_KEY.search(text) is not None


def _plausible_secret(value: str) -> bool:
    # "snake_case_words" and "${VAR}" references are names, not secrets
    if re.fullmatch(r"[a-z_.\-]+", value) or value.startswith(("${", "{{", "%(")):
        return False
    return not re.fullmatch(r"[A-Z_]+", value)


_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential")


def _redact_assigned(m: re.Match[str]) -> str:
    value = REDACTED if _plausible_secret(m.group(3)) else m.group(3)
    return m.group(1) + m.group(2) + value + m.group(2)


def redact(text: str) -> str:
    """``text`` with secret-looking strings replaced by ``<redacted>`` (line breaks kept)."""
    if "PRIVATE KEY" in text:
        text = PRIVATE_KEY.sub(lambda m: REDACTED + "\n" * m.group(0).count("\n"), text)
    text = TOKENS.sub(REDACTED, text)
    lines = text.split("\n")
    for i, line in enumerate(lines):  # the regex only where a keyword is (it is slow)
        low = line.lower()
        if ('"' in line or "'" in line) and any(k in low for k in _KEYWORDS):
            lines[i] = ASSIGNED.sub(_redact_assigned, line)
    text = "\n".join(lines)
    return URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
