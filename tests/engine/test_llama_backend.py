"""The llama.cpp backend on the real embedded model."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from llamapilot.engine.base import Backend, GenerationParams, PromptStats
from llamapilot.engine.registry import backend_names, load_backend
from llamapilot.errors import ContextLengthExceededError, UnknownNameError


@pytest.fixture(scope="module")
def backend(service):
    return service.backend


def test_is_registered_through_the_entry_point(core_settings) -> None:
    assert "llama-cpp" in backend_names()
    with pytest.raises(UnknownNameError, match="unknown backend 'nope'.*llama-cpp"):
        load_backend(core_settings.model_copy(update={"backend": "nope"}))


def test_satisfies_the_protocol(backend) -> None:
    assert isinstance(backend, Backend)
    assert backend.info.n_ctx == backend.n_ctx == 4096
    assert len(backend.info.sha256) == 64


def test_fast_vocabulary_matches_llama_cpp_pieces(backend) -> None:
    vocab = backend._vocabulary
    rng = np.random.default_rng(0)
    for i in rng.choice(len(vocab), 2000, replace=False):
        i = int(i)
        if i in vocab.special:
            continue
        assert vocab.pieces[i] == backend._piece(i, special=False), i


def test_streams_tokens_with_logprobs_and_alternatives(backend) -> None:
    stats = PromptStats()
    events = list(
        backend.generate("def add(a, b):\n", GenerationParams(max_tokens=12, n_top=3), stats=stats)
    )
    assert 0 < len(events) <= 12 and stats.n_predicted == len(events)
    for ev in events:
        assert len(ev.top) == 3
        assert ev.top[0].logprob >= ev.top[1].logprob >= ev.top[2].logprob
        # greedy: the chosen token is the most likely one
        assert ev.logprob == pytest.approx(ev.top[0].logprob)
    assert stats.prompt_ms > 0 and stats.predict_ms > 0


def test_forced_prefix_is_reproduced(backend) -> None:
    params = GenerationParams(max_tokens=8, forced_prefix="\n    ret")
    text = "".join(e.text for e in backend.generate("def one():", params))
    assert text.startswith("\n    ret")


def test_sampling_is_seeded(backend) -> None:
    params = GenerationParams(max_tokens=10, temperature=0.9, seed=7)
    a = [e.id for e in backend.generate("import ", params)]
    b = [e.id for e in backend.generate("import ", params)]
    assert a == b


def test_should_stop_and_cancel(backend) -> None:
    seen = list(
        backend.generate(
            "x = 1\ny = 2\n", GenerationParams(max_tokens=40), should_stop=lambda t: len(t) > 3
        )
    )
    assert len("".join(e.text for e in seen)) > 3 and len(seen) < 40
    cancel = threading.Event()
    cancel.set()
    stats = PromptStats()
    assert list(backend.generate("x", GenerationParams(), cancel=cancel, stats=stats)) == []
    assert stats.stop_reason == "cancelled"


def test_prompt_over_the_context_window(backend) -> None:
    with pytest.raises(ContextLengthExceededError, match="context window of 4096"):
        list(backend.generate(list(range(100, 5000)), GenerationParams()))
