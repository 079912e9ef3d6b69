"""The OpenAI dialect, driven by the real ``openai`` client against the real server."""

from __future__ import annotations

import math

import openai
import pytest

CODE = "def add(a, b):\n    return"


@pytest.fixture()
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def test_models_lists_the_loaded_model(client: openai.OpenAI, server) -> None:
    models = client.models.list().data
    assert [m.id for m in models] == ["SmolLM2-135M-Instruct.Q4_1"]


def test_raw_completion_with_logprobs(client: openai.OpenAI) -> None:
    r = client.completions.create(model="any", prompt=CODE, max_tokens=6, temperature=0, logprobs=3)
    choice = r.choices[0]
    assert choice.text.startswith(" a + b")
    assert choice.finish_reason in ("length", "stop")
    lp = choice.logprobs
    assert "".join(lp.tokens) == choice.text
    assert all(v <= 0 for v in lp.token_logprobs)
    # the chosen token is the most likely alternative at temperature 0
    for tok, top in zip(lp.tokens, lp.top_logprobs, strict=True):
        assert len(top) == 3 and max(top, key=top.get) == tok
    assert lp.text_offset[0] == 0
    assert r.usage.completion_tokens == len(lp.tokens)
    assert r.usage.prompt_tokens > 0


def test_completion_with_suffix_fills_the_middle(client: openai.OpenAI) -> None:
    r = client.completions.create(
        model="any",
        prompt=CODE,
        suffix="\n\n\nprint(add(1, 2))\n",
        max_tokens=16,
        temperature=0,
        logprobs=1,
    )
    text = r.choices[0].text
    assert text.strip() == "a + b"
    assert "print(add" not in text, "the suffix must not be repeated"
    assert "".join(r.choices[0].logprobs.tokens) == text


def test_stop_strings_cut_the_text(client: openai.OpenAI) -> None:
    r = client.completions.create(
        model="any", prompt=CODE, max_tokens=8, temperature=0, stop=[" b"]
    )
    assert r.choices[0].text == " a +"
    assert r.choices[0].finish_reason == "stop"


def test_streamed_completion_matches_the_whole_one(client: openai.OpenAI) -> None:
    whole = client.completions.create(model="any", prompt=CODE, max_tokens=10, temperature=0)
    chunks = list(
        client.completions.create(
            model="any",
            prompt=CODE,
            max_tokens=10,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == whole.choices[0].text
    finals = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finals == [whole.choices[0].finish_reason]
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_n_choices(client: openai.OpenAI) -> None:
    r = client.completions.create(
        model="any", prompt=CODE, max_tokens=4, temperature=0.8, seed=7, n=3
    )
    assert sorted(c.index for c in r.choices) == [0, 1, 2]


def test_chat_uses_the_models_template(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="any",
        messages=[
            {"role": "system", "content": "You answer in one word."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        max_tokens=12,
        temperature=0,
        logprobs=True,
        top_logprobs=2,
    )
    msg = r.choices[0].message
    assert msg.role == "assistant"
    assert "Paris" in msg.content
    assert "<|im_end|>" not in msg.content and "<|im_start|>" not in msg.content
    content = r.choices[0].logprobs.content
    assert content and all(len(t.top_logprobs) == 2 for t in content)
    assert math.isclose(content[0].logprob, content[0].top_logprobs[0].logprob)


def test_chat_streaming(client: openai.OpenAI) -> None:
    kwargs = dict(
        model="any",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12,
        temperature=0,
    )
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_over_context_prompt_is_a_400(client: openai.OpenAI, server) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="any", prompt="word " * 5000, max_tokens=4)
    assert err.value.status_code == 400
    assert err.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": "word " * 5000}], max_tokens=4
        )
    assert err.value.code == "context_length_exceeded"
    # and the server goes on serving
    assert client.completions.create(model="any", prompt=CODE, max_tokens=2, temperature=0)


def test_invalid_parameters_are_422_naming_the_field(client: openai.OpenAI) -> None:
    for kwargs, field in [
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 10**12}, "max_tokens"),
        ({"n": 1000}, "n"),
        ({"temperature": "hot"}, "temperature"),
    ]:
        with pytest.raises(openai.UnprocessableEntityError) as err:
            client.completions.create(model="any", prompt=CODE, **kwargs)
        assert err.value.status_code == 422
        assert err.value.body["param"] == field, err.value.body
