"""The audit log records real completions from the embedded model through the service."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from llamapilot.audit import AuditLog, attach_audit, detach_audit
from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest
from llamapilot.config import Settings

PY = "import statistics\n\n\ndef mean_of(values):\n    \n"

AWS = "AKIAIOSFODNN7EXAMPLE"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SK = "sk-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
PASSWORD = "Tr0ub4dor-and-3"
KEY_LINE = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
SECRETS_DOC = (
    "import boto3\n\n"
    f'AWS_ACCESS_KEY_ID = "{AWS}"\n'
    f'GITHUB_TOKEN = "{GHP}"\n'
    f'OPENAI_KEY = "{SK}"\n'
    f'db_password = "{PASSWORD}"\n'
    'DEPLOY_KEY = """\n-----BEGIN OPENSSH PRIVATE KEY-----\n'
    f'{KEY_LINE}\n-----END OPENSSH PRIVATE KEY-----\n"""\n\n\n'
    "def connect(region):\n    "
)


@pytest.fixture
def audited(service: CompletionService, core_settings: Settings, tmp_path: Path):
    """The shared service with an audit sink on a log of this test's own."""
    settings = core_settings.model_copy(update={"data_dir": tmp_path / "data", "audit": True})
    sink = attach_audit(service, settings)
    assert sink is not None
    try:
        yield sink
    finally:
        detach_audit(service, sink)


def test_a_real_completion_is_recorded(service: CompletionService, audited) -> None:
    request = CompletionRequest.at_position(PY, 4, 4, path="stats.py", max_tokens=8)
    result = service.complete(request)
    rid = audited.record_id(result)
    assert rid is not None
    rec = audited.log.get(rid)
    assert rec is not None
    # what the model saw and said, exactly
    assert rec.prompt == result.prompt and rec.prompt.endswith(result.prompt[-20:])
    assert rec.text == result.text and rec.raw_text == result.raw_text
    assert rec.forced_prefix == result.forced_prefix
    assert [t["text"] for t in rec.tokens] == [t.text for t in result.tokens]
    expected = result.to_dict()
    assert rec.tokens == expected["tokens"]
    assert rec.sources == expected["sources"]
    assert math.isclose(rec.confidence or 0, result.confidence, abs_tol=1e-6)
    info = service.backend.info
    assert (rec.model_name, rec.model_path, rec.model_sha256) == (info.name, info.path, info.sha256)
    assert len(rec.model_sha256 or "") == 64
    assert rec.template == result.template
    assert (rec.path, rec.language, rec.cursor_line) == ("stats.py", "python", 4)
    assert rec.total_ms and rec.total_ms > 0 and rec.n_prompt_tokens == result.n_prompt_tokens
    assert rec.outcome is None and rec.redactions == 0
    assert rec.from_cache == int(getattr(result, "from_cache", False))
    # a front end reports the user's choice
    assert audited.set_outcome(result, "accepted")
    assert audited.log.recent(1)[0].outcome == "accepted"
    # the JSON view matches the result's own contract where they overlap
    view = rec.to_dict()
    for key in ("text", "tokens", "prompt", "sources", "template", "raw_text", "stop_reason"):
        assert view[key] == expected[key], key
    json.dumps(view)


def test_planted_secrets_never_reach_the_log(service: CompletionService, audited) -> None:
    lines = SECRETS_DOC.split("\n")
    request = CompletionRequest.at_position(
        SECRETS_DOC, len(lines) - 1, len(lines[-1]), path="deploy.py", max_tokens=8
    )
    result = service.complete(request)
    for secret in (AWS, GHP, SK, PASSWORD, KEY_LINE):
        assert secret in result.prompt  # the model saw them, so the test means something
    db = audited.log.path
    stored = b"".join(p.read_bytes() for p in db.parent.glob("audit.db*"))
    for secret in (AWS, GHP, SK, PASSWORD, KEY_LINE):
        assert secret.encode() not in stored, secret
    rec = audited.log.recent(1)[0]
    assert rec.redactions >= 5
    assert rec.prompt.count("<redacted>") >= 5
    assert "def connect(region):" in rec.prompt  # the rest of the prompt is kept


def test_off_switch_records_nothing(
    service: CompletionService, core_settings: Settings, tmp_path: Path
) -> None:
    settings = core_settings.model_copy(update={"data_dir": tmp_path / "data", "audit": False})
    before = list(service.sinks)
    assert attach_audit(service, settings) is None
    assert service.sinks == before
    assert AuditLog.open(settings) is None
    service.complete(CompletionRequest.at_position(PY, 4, 4, path="off.py", max_tokens=2))
    assert not (tmp_path / "data").exists()
