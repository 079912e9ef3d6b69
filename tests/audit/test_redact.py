"""Secret-looking strings are replaced before anything is stored (llamapilot.redact)."""

from __future__ import annotations

import pytest

from llamapilot.redact import REDACTED, contains_secret, redact, redact_pieces

AWS = "AKIAIOSFODNN7EXAMPLE"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SK = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
KEY_LINE = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
KEY_BLOCK = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    f"{KEY_LINE}\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"aws_access_key_id = {AWS}\n", AWS),
        (f"token: {GHP}", GHP),
        (f'client = OpenAI(api_key="{SK}")', SK),
        ('DB_PASSWORD = "hunter2-Xy9"\n', "hunter2-Xy9"),
        ("password: 'correct-horse-42'", "correct-horse-42"),
        ("export API_TOKEN=abc123def456\n", "abc123def456"),
        ("url = 'postgres://admin:s3cr3tPw@db:5432/app'", "s3cr3tPw"),
        (
            f"key = '''\n{KEY_BLOCK}\n'''",
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        ),
    ],
)
def test_secrets_are_replaced(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert REDACTED in out
    assert contains_secret(text) and not contains_secret(out)


def test_private_key_keeps_line_numbers() -> None:
    text = f"a = 1\n{KEY_BLOCK}\nb = 2\n"
    out = redact(text)
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[-1] == "b = 2"
    assert "PRIVATE KEY" not in out


@pytest.mark.parametrize(
    "code",
    [
        "token = next_token(stream)\n",
        "password = get_password()\n",
        "secret_key = os.environ['SECRET_KEY']\n",
        'api_key = "${OPENAI_API_KEY}"\n',
        'stop_token = "<|im_end|>"\n',
        "def tokenize(text):\n    return text.split()\n",
        "PASSWORD_MIN_LENGTH = 12\n",
    ],
)
def test_ordinary_code_is_left_alone(code: str) -> None:
    assert redact(code) == code


def test_a_secret_split_across_pieces_is_still_caught() -> None:
    # a prompt cut at a token boundary inside the key, then tokens that finish it
    pieces = ["key = 'AKIAIOSFOD", "NN7E", "XAM", "PLE'\nprint(key)"]
    out = redact_pieces(pieces)
    assert "".join(out) == redact("".join(pieces)) == f"key = '{REDACTED}'\nprint(key)"
    assert out[0] == f"key = '{REDACTED}"
    assert out[1] == out[2] == ""
    assert out[3] == "'\nprint(key)"
    # nothing of the key is left in any piece
    assert not any(part in "".join(out) for part in ("AKIA", "IOSFOD", "NN7E", "XAM"))


def test_pieces_keep_their_own_line_breaks() -> None:
    text = f"x = 1\n{KEY_BLOCK}\ny = 2"
    cut = text.index("VTLw")
    pieces = [text[:cut], text[cut:]]
    out = redact_pieces(pieces)
    assert [p.count("\n") for p in out] == [p.count("\n") for p in pieces]
    assert "".join(out) == redact(text)
