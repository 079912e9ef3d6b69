"""Keeping secrets out of the index: files that hold secrets are never read, and
secret-looking strings in other files are replaced before anything is stored, by the
same rules as the audit log (:func:`llamapilot.redact.redact`, which keeps line breaks,
so line numbers stay right).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from llamapilot.redact import PRIVATE_KEY, redact

__all__ = ["holds_private_key", "is_secret_file", "redact"]

SECRET_FILE_NAMES = re.compile(
    r"^(\.env(\..*)?|.*\.env|\.envrc|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|.*\.(pem|key|p12|pfx|jks|"
    r"keystore|kdbx|asc|gpg|ppk|tfstate|tfvars)|\.netrc|_netrc|\.npmrc|\.pypirc|\.git-credentials|"
    r"\.htpasswd|\.dockercfg|credentials(\.json)?|secrets?\.(json|ya?ml|toml|ini|env)|"
    r"service[-_]account.*\.json|known_hosts|authorized_keys)$",
    re.IGNORECASE,
)
SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure"})


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
