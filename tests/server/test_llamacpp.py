"""The llama.cpp-server dialect as llama.vim and llama.vscode use it."""

from __future__ import annotations

import json

import httpx

# what llama.vim's llama#fim sends (autoload/llama.vim), with a small extra chunk
LLAMA_VIM_REQUEST = {
    "input_prefix": "import math\n\n\ndef circle_area(r):\n",
    "input_suffix": "\n\nprint(circle_area(2))\n",
    "prompt": "    return",
    "input_extra": [
        {"filename": "geometry.py", "text": "def square_area(s):\n    return s * s\n", "time": 0}
    ],
    "n_predict": 32,
    "n_indent": 4,
    "top_k": 40,
    "top_p": 0.99,
    "stream": False,
    "samplers": ["top_k", "top_p", "infill"],
    "cache_prompt": True,
    "t_max_prompt_ms": 500,
    "t_max_predict_ms": 1500,
    "response_fields": [
        "content",
        "timings/prompt_n",
        "timings/prompt_ms",
        "timings/prompt_per_token_ms",
        "timings/prompt_per_second",
        "timings/predicted_n",
        "timings/predicted_ms",
        "timings/predicted_per_token_ms",
        "timings/predicted_per_second",
        "truncated",
        "tokens_cached",
    ],
}


def test_health_names_the_model(http: httpx.Client) -> None:
    r = http.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["model"] == "SmolLM2-135M-Instruct.Q4_1"


def test_llama_vim_infill(http: httpx.Client) -> None:
    r = http.post("/infill", json=LLAMA_VIM_REQUEST)
    assert r.status_code == 200
    # llama.vim drops any answer that does not match this exact byte pattern
    assert '"content":"' in r.text
    body = r.json()
    assert set(body) == set(LLAMA_VIM_REQUEST["response_fields"])  # flattened, slash names
    assert "math.pi" in body["content"] or "3.14" in body["content"] or "r" in body["content"]
    assert "print(circle_area" not in body["content"]
    assert body["timings/predicted_n"] >= 1
    assert body["timings/prompt_ms"] >= 0 and body["truncated"] is False


def test_infill_full_answer_has_llama_cpp_fields(http: httpx.Client) -> None:
    req = {k: v for k, v in LLAMA_VIM_REQUEST.items() if k != "response_fields"}
    body = http.post("/infill", json=req).json()
    assert body["stop"] is True
    for key in ("content", "tokens_predicted", "tokens_evaluated", "tokens_cached", "timings"):
        assert key in body
    for key in ("prompt_n", "prompt_ms", "predicted_n", "predicted_ms", "predicted_per_second"):
        assert key in body["timings"]
    # a request that shares the start of the prompt reuses the KV cache
    again = http.post("/infill", json={**req, "input_suffix": "\n\nprint(circle_area(3))\n"})
    assert again.json()["tokens_cached"] > 0.5 * again.json()["tokens_evaluated"]


def test_infill_prefill_only(http: httpx.Client) -> None:
    """llama.vim's ring-buffer warm-up sends n_predict 0: evaluate, generate nothing."""
    req = {**LLAMA_VIM_REQUEST, "n_predict": 0, "response_fields": None}
    body = http.post("/infill", json=req).json()
    assert body["content"] == ""
    assert body["tokens_predicted"] == 0
    assert body["tokens_evaluated"] > 10


def test_infill_streaming(http: httpx.Client) -> None:
    req = {**LLAMA_VIM_REQUEST, "stream": True, "response_fields": None}
    whole = http.post("/infill", json={**req, "stream": False}).json()
    with http.stream("POST", "/infill", json=req) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert "".join(e["content"] for e in events) == whole["content"]
    assert events[-1]["stop"] is True and "timings" in events[-1]
