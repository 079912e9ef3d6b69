"""The completion core: request → context → prompt → engine → post-processing → result.

Every front end (CLI, HTTP server, language server, evals) calls :class:`CompletionService`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from llamapilot.completion.boundary import healing_split
from llamapilot.completion.cache import SuggestionCache
from llamapilot.completion.postprocess import (
    ShapeContext,
    StopDetector,
    decide_multiline,
    finalize,
)
from llamapilot.completion.repetition import looping
from llamapilot.completion.scope import Grammars
from llamapilot.completion.templates import (
    Prompt,
    PromptTemplate,
    RenderInput,
    TemplateRegistry,
)
from llamapilot.completion.types import CompletionRequest, CompletionResult, Timings
from llamapilot.config import Settings
from llamapilot.context.snippets import Snippet
from llamapilot.context.window import make_window
from llamapilot.engine.base import Backend, GenerationParams, PromptStats, TokenEvent
from llamapilot.errors import ContextLengthExceededError
from llamapilot.languages import language_from_path, normalize_language

if TYPE_CHECKING:
    from llamapilot.chat.template import ChatTemplate

CHARS_PER_TOKEN = 3.2
"""A conservative estimate of characters per token in code, to size windows before
tokenizing; the exact count is checked after rendering."""

ResultSink = Callable[[CompletionRequest, CompletionResult], None]
"""Called with every finished completion (the audit log is one)."""
ContextProvider = Callable[[CompletionRequest], list[Snippet]]
"""Returns snippets from elsewhere (e.g. the workspace index) for a request, best last
(nearest the code in the prompt)."""


@dataclass(frozen=True)
class PreparedPrompt:
    prompt: Prompt
    text: str
    """The exact prompt string sent to the model (after the token-boundary cut)."""
    tokens: list[int]
    forced: str
    """The cut-off tail of the prefix that the first generated tokens must reproduce."""
    sources: list[Snippet]
    shape: ShapeContext


class CompletionService:
    """Turns completion requests into suggestions on one loaded backend."""

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        templates: TemplateRegistry | None = None,
        sinks: list[ResultSink] | None = None,
        context_providers: list[ContextProvider] | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.templates = templates or TemplateRegistry.load()
        self.sinks: list[ResultSink] = list(sinks or [])
        self.context_providers: list[ContextProvider] = list(context_providers or [])
        self.lock = threading.Lock()
        """Held while the backend generates: one generation at a time."""
        self.cache = SuggestionCache()
        self.grammars = Grammars()
        self.workspace: Any = None
        """The workspace-index context provider, if one is attached."""
        self.audit: Any = None
        """The audit sink recording this service's completions, if one is attached."""
        self._default_template = self._detect_template()

    @classmethod
    def from_settings(cls, settings: Settings) -> CompletionService:
        """Load the configured backend; give it repository context from the workspace index
        of each request's file (when one was built with ``llamapilot index``); record
        completions in the audit log unless ``settings.audit`` is off."""
        from llamapilot.audit import attach_audit
        from llamapilot.context.retrieval import attach_workspace_index
        from llamapilot.engine.registry import load_backend

        service = cls(load_backend(settings), settings)
        service.workspace = attach_workspace_index(service)
        service.audit = attach_audit(service, settings)
        return service

    # --- templates ----------------------------------------------------------------------
    def _detect_template(self) -> PromptTemplate:
        if self.settings.template:
            return self.templates.get(self.settings.template)
        info = self.backend.info
        if info.family:
            return self.templates.get(info.family)
        vocab = getattr(self.backend, "vocabulary", None)
        tokens = vocab() if callable(vocab) else set()
        return self.templates.detect(tokens, info.metadata)

    @property
    def template(self) -> PromptTemplate:
        return self._default_template

    @cached_property
    def chat_template(self) -> ChatTemplate:
        """The model's own chat template (ChatML when the model file has none)."""
        from llamapilot.chat.template import ChatTemplate

        return ChatTemplate.for_model(self.backend.info, self.backend.token_text)

    # --- pipeline -----------------------------------------------------------------------
    def prepare(self, request: CompletionRequest) -> PreparedPrompt:
        """Build the prompt for a request: windows, snippets, template, token boundary."""
        template = (
            self.templates.get(request.template) if request.template else self._default_template
        )
        language = normalize_language(request.language) or language_from_path(request.path)
        max_tokens = request.max_tokens or self.settings.max_tokens
        n_ctx = self.backend.n_ctx
        prefix_chars = int(self.settings.prefix_tokens * CHARS_PER_TOKEN)
        suffix_chars = int(self.settings.suffix_tokens * CHARS_PER_TOKEN)
        context_chars = int(self.settings.context_tokens * CHARS_PER_TOKEN)
        gathered = list(request.extra)
        for provider in self.context_providers:
            gathered += provider(request)
        snippets = _fit_snippets(gathered, context_chars)
        while True:
            window = make_window(
                request.prefix,
                request.suffix,
                prefix_chars=prefix_chars,
                suffix_chars=suffix_chars,
                cursor_line=request.cursor_line or request.prefix.count("\n"),
            )
            prompt = template.render(
                RenderInput(window.prefix, window.suffix, snippets, request.path, language)
            )
            forced = ""
            segments = list(prompt.segments)
            if prompt.heals and segments and not segments[-1].special:
                kept, forced = healing_split(segments[-1].text)
                # never cut into the template's own text before the document prefix
                if len(forced) > len(window.prefix):
                    forced = forced[len(forced) - len(window.prefix) :]
                kept = segments[-1].text[: len(segments[-1].text) - len(forced)]
                segments[-1] = type(segments[-1])(kept)
            tokens = self._tokenize(segments)
            if len(tokens) + max_tokens <= n_ctx:
                break
            # too long: shrink what can shrink, else give up with a clear error
            if snippets:
                snippets = snippets[1:]  # the best snippet comes last, nearest the code
            elif prefix_chars > 64 or suffix_chars > 64:
                prefix_chars //= 2
                suffix_chars //= 2
            else:
                raise ContextLengthExceededError(len(tokens) + max_tokens, n_ctx)
        multiline = (
            request.multiline
            if request.multiline is not None
            else decide_multiline(request.prefix, request.suffix, language)
        )
        shape = ShapeContext(
            prefix=window.prefix,
            suffix=window.suffix,
            language=language,
            multiline=multiline,
            max_lines=request.max_lines or self.settings.max_lines,
        )
        sources = list(snippets) + [
            Snippet(
                "", request.path, window.prefix_start_line + 1, window.cursor_line + 1, "prefix"
            ),
        ]
        if window.suffix:
            sources.append(
                Snippet(
                    "", request.path, window.cursor_line + 1, window.suffix_end_line + 1, "suffix"
                )
            )
        text = "".join(seg.text for seg in segments)
        return PreparedPrompt(prompt, text, tokens, forced, sources, shape)

    def _tokenize(self, segments: list) -> list[int]:
        tokens: list[int] = []
        for i, seg in enumerate(segments):
            tokens += self.backend.tokenize(seg.text, special=seg.special, add_bos=(i == 0))
        return tokens

    def complete(
        self,
        request: CompletionRequest,
        *,
        cancel: threading.Event | None = None,
        on_token: Callable[[TokenEvent], None] | None = None,
    ) -> CompletionResult:
        """Generate one suggestion for ``request``."""
        t0 = time.perf_counter()
        cached = self.cache.get(request)
        if cached is not None:
            cached.timings.total_ms = (time.perf_counter() - t0) * 1000
            for sink in self.sinks:
                sink(request, cached)
            return cached
        prepared = self.prepare(request)
        shape = prepared.shape
        forced = prepared.forced
        detector = StopDetector(shape) if request.postprocess else None
        stops = [s for s in request.stop if s]

        def should_stop(generated: str) -> bool:
            if len(generated) < len(forced):
                return False
            text = generated[len(forced) :]
            if stops and any(s in text for s in stops):
                return True
            if looping(text) >= 0:
                return True
            return detector(text) if detector is not None else False

        params = GenerationParams(
            max_tokens=request.max_tokens or self.settings.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            n_top=request.n_top,
            stop_tokens=prepared.prompt.stop,
            forced_prefix=forced,
        )
        stats = PromptStats()
        events: list[TokenEvent] = []
        with self.lock:
            for ev in self.backend.generate(
                prepared.tokens, params, should_stop=should_stop, cancel=cancel, stats=stats
            ):
                events.append(ev)
                if on_token is not None:
                    on_token(ev)
        generated = "".join(e.text for e in events)
        raw = generated[len(forced) :] if generated.startswith(forced) else ""
        if stops:
            cut = min((raw.find(s) for s in stops if s in raw), default=-1)
            if cut >= 0:
                raw = raw[:cut]
        loop = looping(raw)
        if loop >= 0:
            raw = raw[:loop]
        text = finalize(raw, shape, grammars=self.grammars) if request.postprocess else raw
        kept = _tokens_for_text(events, len(forced), raw, text)
        total_ms = (time.perf_counter() - t0) * 1000
        result = CompletionResult(
            text=text,
            tokens=kept,
            prompt=prepared.text,
            forced_prefix=forced,
            sources=prepared.sources,
            model=self.backend.info,
            timings=Timings(stats.prompt_ms, stats.predict_ms, total_ms),
            raw_text=raw,
            template=prepared.prompt.template,
            n_prompt_tokens=stats.n_prompt_tokens,
            n_cached_tokens=stats.n_cached_tokens,
            n_predicted=stats.n_predicted,
            stop_reason=stats.stop_reason,
            multiline=shape.multiline,
        )
        if result.stop_reason != "cancelled":
            self.cache.put(request, result)
        for sink in self.sinks:
            sink(request, result)
        return result


def _fit_snippets(snippets: list[Snippet], budget_chars: int) -> list[Snippet]:
    """Keep the snippets that fit the budget, the last (best) ones first, in their order."""
    out: list[Snippet] = []
    used = 0
    for s in reversed(snippets):
        if used + len(s.text) > budget_chars:
            continue
        out.append(s)
        used += len(s.text)
    return out[::-1]


def _tokens_for_text(
    events: list[TokenEvent], skip_chars: int, raw: str, text: str
) -> list[TokenEvent]:
    """The tokens behind ``text``: skip the forced prefix, stop where ``text`` parts from
    ``raw``; tokens cut at either end keep only their part inside."""
    common = 0
    limit = min(len(raw), len(text))
    while common < limit and raw[common] == text[common]:
        common += 1
    start, end = skip_chars, skip_chars + common
    out: list[TokenEvent] = []
    pos = 0
    for ev in events:
        a, b = pos, pos + len(ev.text)
        pos = b
        if b <= start or a >= end:
            if a >= end:
                break
            continue
        piece = ev.text[max(0, start - a) : len(ev.text) - max(0, b - end)]
        out.append(TokenEvent(ev.id, piece, ev.logprob, ev.top) if piece != ev.text else ev)
    return out
