"""The llama.cpp backend (llama-cpp-python): one loaded model, KV cache reused.

Prefill and decode are kept apart: :meth:`LlamaCppBackend._prefill` evaluates only the part
of the prompt that differs from the previous call's tokens (the KV cache keeps the rest);
the decode loop picks each token from the last logits row, so log-probabilities and top
alternatives come at no extra evaluation cost and without ``logits_all``.
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from llamapilot.engine.base import (
    GenerationParams,
    ModelInfo,
    PromptStats,
    ShouldStop,
    TokenEvent,
    TopLogprob,
)
from llamapilot.engine.vocab import Vocabulary, decode_token_texts
from llamapilot.errors import BackendError, ContextLengthExceededError, ModelFileError

if TYPE_CHECKING:
    from llamapilot.config import Settings


_NOT_TEXT = (1 << 0) | (1 << 1) | (1 << 3)  # llama_token_attr UNKNOWN | UNUSED | CONTROL


def _common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(a[:n] != b[:n])[0]
    return int(diff[0]) if len(diff) else n


class LlamaCppBackend:
    """A GGUF model in llama.cpp, kept loaded between calls."""

    name = "llama-cpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        sha256: str | None = None,
    ) -> None:
        import llama_cpp

        path = Path(model_path)
        self._path = path
        self._sha256 = sha256
        threads = n_threads or max(1, os.cpu_count() or 1)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=min(n_batch, n_ctx),
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(path, f"llama.cpp could not load it: {exc}") from None
        self._lib = llama_cpp
        self._vocab_p = self._llm._model.vocab
        self._n_vocab = self._llm.n_vocab()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaCppBackend:
        from llamapilot.models.locate import resolve_model_path

        return cls(
            resolve_model_path(settings.model),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_batch=settings.n_batch,
        )

    # --- identity -----------------------------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return self._llm.n_ctx()

    @cached_property
    def metadata(self) -> dict[str, Any]:
        return dict(self._llm.metadata)

    @cached_property
    def info(self) -> ModelInfo:
        from llamapilot.models.locate import sha256_file

        md = self.metadata
        return ModelInfo(
            name=str(md.get("general.name") or self._path.stem),
            path=str(self._path.resolve()),
            sha256=self._sha256 or sha256_file(self._path),
            n_ctx=self.n_ctx,
            chat_template=md.get("tokenizer.chat_template"),
            metadata=md,
        )

    # --- tokens -------------------------------------------------------------------------
    def _piece(self, token_id: int, special: bool = True) -> bytes:
        buf = (self._lib.ctypes.c_char * 256)()
        n = self._lib.llama_token_to_piece(self._vocab_p, token_id, buf, 256, 0, special)
        return bytes(buf[: max(n, 0)])

    @cached_property
    def _texts(self) -> list[str]:
        out = []
        for i in range(self._n_vocab):
            raw = self._lib.llama_vocab_get_text(self._vocab_p, i)
            out.append(raw.decode("utf-8", "replace") if raw else "")
        return out

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        model = str(self.metadata.get("tokenizer.ggml.model", ""))
        decoded = decode_token_texts(self._texts, model)
        pieces: list[bytes] = []
        special: set[int] = set()
        for i, piece in enumerate(decoded):
            if self._lib.llama_vocab_get_attr(self._vocab_p, i) & _NOT_TEXT:
                special.add(i)  # control, unknown and unused tokens never stand for text
                pieces.append(b"")
            else:
                pieces.append(piece if piece is not None else self._piece(i, special=False))
        return Vocabulary(pieces, special)

    def vocabulary(self) -> set[str]:
        """Every token's text (special tokens included), for template detection."""
        return set(self._texts)

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        if not text:
            return self._llm.tokenize(b"", add_bos=True, special=False) if add_bos else []
        ids = self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)
        if special and len(ids) > 1 + add_bos and not any(c.isspace() for c in text):
            # sentencepiece vocabularies (CodeLlama) spell control tokens with a leading '▁'
            alt = self._llm.tokenize(("▁" + text).encode(), add_bos=add_bos, special=True)
            if len(alt) == 1 + add_bos:
                return alt
        return ids

    def token_text(self, token_id: int) -> str:
        return self._piece(token_id).decode("utf-8", "replace")

    # --- generation ---------------------------------------------------------------------
    def _prefill(self, tokens: Sequence[int], stats: PromptStats) -> np.ndarray:
        llm = self._llm
        new = np.asarray(tokens, dtype=np.intc)
        cached = _common_prefix(llm.input_ids[: llm.n_tokens], new)
        if cached >= len(new):
            cached = len(new) - 1  # the last token must be evaluated for its logits
        llm.n_tokens = cached
        t0 = time.perf_counter()
        try:
            llm.eval(new[cached:].tolist())
        except RuntimeError as exc:
            llm.n_tokens = 0
            raise BackendError(f"llama.cpp failed to evaluate the prompt: {exc}") from None
        stats.prompt_ms = (time.perf_counter() - t0) * 1000
        stats.n_prompt_tokens = len(new)
        stats.n_cached_tokens = cached
        return self._last_logits()

    def _last_logits(self) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self._llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy()

    def _decode_one(self, token: int) -> np.ndarray:
        try:
            self._llm.eval([token])
        except RuntimeError as exc:
            self._llm.n_tokens = 0
            raise BackendError(f"llama.cpp failed to decode: {exc}") from None
        return self._last_logits()

    def generate(
        self,
        prompt: str | Sequence[int],
        params: GenerationParams,
        *,
        should_stop: ShouldStop | None = None,
        cancel: threading.Event | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[TokenEvent]:
        """Stream tokens; see :class:`~llamapilot.engine.base.Backend`."""
        stats = stats if stats is not None else PromptStats()
        tokens = (
            self.tokenize(prompt, special=True, add_bos=True)
            if isinstance(prompt, str)
            else list(prompt)
        )
        if not tokens:
            tokens = self.tokenize("", add_bos=True) or [self._llm.token_bos()]
        n_ctx = self.n_ctx
        if len(tokens) >= n_ctx:
            raise ContextLengthExceededError(len(tokens), n_ctx)
        max_new = max(0, min(params.max_tokens, n_ctx - len(tokens)))
        stop_ids: set[int] = set()
        for s in params.stop_tokens:
            ids = self.tokenize(s, special=True)
            if len(ids) == 1:
                stop_ids.add(ids[0])
        with self._lock:
            yield from self._generate_locked(
                tokens, params, max_new, stop_ids, should_stop, cancel, stats
            )

    def _generate_locked(
        self,
        tokens: list[int],
        params: GenerationParams,
        max_new: int,
        stop_ids: set[int],
        should_stop: ShouldStop | None,
        cancel: threading.Event | None,
        stats: PromptStats,
    ) -> Iterator[TokenEvent]:
        logits = self._prefill(tokens, stats)
        t0 = time.perf_counter()
        rng = np.random.default_rng(params.seed)
        forced = params.forced_prefix.encode("utf-8")
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        text = ""
        stats.stop_reason = "length"
        try:
            for _ in range(max_new):
                if cancel is not None and cancel.is_set():
                    stats.stop_reason = "cancelled"
                    break
                logprobs = _log_softmax(logits)
                allowed = self._vocabulary.compatible(forced) if forced else None
                token = _choose(logprobs, params, rng, allowed)
                if token in stop_ids or self._lib.llama_vocab_is_eog(self._vocab_p, token):
                    stats.stop_reason = "stop"
                    break
                piece = self._piece(token, special=False)
                if forced:
                    forced = forced[len(piece) :] if len(piece) < len(forced) else b""
                piece_text = decoder.decode(piece)
                text += piece_text
                stats.n_predicted += 1
                yield TokenEvent(
                    id=token,
                    text=piece_text,
                    logprob=float(logprobs[token]),
                    top=self._top(logprobs, params.n_top),
                )
                if should_stop is not None and not forced and should_stop(text):
                    stats.stop_reason = "stop"
                    break
                if stats.n_predicted >= max_new:
                    break
                logits = self._decode_one(token)
        finally:
            stats.predict_ms = (time.perf_counter() - t0) * 1000

    def _top(self, logprobs: np.ndarray, n: int) -> tuple[TopLogprob, ...]:
        if n <= 0:
            return ()
        idx = np.argpartition(logprobs, -n)[-n:]
        idx = idx[np.argsort(-logprobs[idx])]
        return tuple(
            TopLogprob(
                self._piece(int(i), special=True).decode("utf-8", "replace"),
                float(logprobs[i]),
                int(i),
            )
            for i in idx
        )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    m = logits.max()
    shifted = logits - m
    return shifted - np.log(np.exp(shifted).sum())


def _choose(
    logprobs: np.ndarray,
    params: GenerationParams,
    rng: np.random.Generator,
    allowed: np.ndarray | None,
) -> int:
    if allowed is not None and len(allowed):
        masked = np.full_like(logprobs, -np.inf)
        masked[allowed] = logprobs[allowed]
        logprobs = masked
    if params.temperature <= 0:
        return int(np.argmax(logprobs))
    scaled = logprobs / params.temperature
    k = min(params.top_k, len(scaled)) if params.top_k > 0 else len(scaled)
    idx = np.argpartition(scaled, -k)[-k:]
    vals = scaled[idx]
    probs = np.exp(vals - vals.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    idx, probs = idx[order], probs[order]
    if params.top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), params.top_p) + 1)
        idx, probs = idx[:keep], probs[:keep] / probs[:keep].sum()
    return int(rng.choice(idx, p=probs))
