"""Prompt templates, one per model family: fill-in-the-middle or prefix-only.

A template renders the prompt as a list of :class:`Segment` s. Special segments (FIM and
chat control tokens) are tokenized as special tokens; everything else — the user's code and
retrieved snippets — is tokenized as plain text, so code that happens to contain a control
string such as ``<|im_end|>`` cannot inject one. The exact prompt string shown to users is the
concatenation of the segments' text.

Templates are found through the ``llamapilot.templates`` entry-point group; each entry point
names a callable that returns templates (see :func:`builtin_templates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from llamapilot.context.snippets import Snippet
from llamapilot.languages import line_comment, markdown_fence_name


@dataclass(frozen=True)
class Segment:
    text: str
    special: bool = False


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: its segments, and where generation begins relative to the code."""

    segments: tuple[Segment, ...]
    template: str
    fim: bool
    stop: tuple[str, ...] = ()
    heals: bool = True
    """Whether the prompt ends with the document prefix, so token healing can apply."""

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True)
class RenderInput:
    prefix: str
    suffix: str
    snippets: Sequence[Snippet] = ()
    path: str | None = None
    language: str | None = None
    repo: str | None = None


@dataclass(frozen=True)
class PromptTemplate:
    """Base of the templates: a name, detection, and rendering."""

    name: str
    stop: tuple[str, ...] = ()
    fim: bool = True
    markers: tuple[str, ...] = ()
    """Vocabulary entries that identify the family (all must be present)."""
    excludes: tuple[str, ...] = ()
    """Vocabulary entries whose presence rules the family out."""
    priority: int = 0
    """Higher wins when several templates match a vocabulary."""

    def matches(self, tokens: AbstractSet[str], metadata: Mapping[str, Any]) -> bool:
        if not self.markers:
            return False
        if any(m not in tokens for m in self.markers):
            return False
        return not any(x in tokens for x in self.excludes)

    def render(self, inp: RenderInput) -> Prompt:  # pragma: no cover - abstract
        raise NotImplementedError


def _path_comment_block(snippets: Sequence[Snippet], language: str | None) -> str:
    """Snippets as text, each headed by a comment naming its path (for models without
    file-separator tokens)."""
    c = line_comment(language)
    parts = []
    for s in snippets:
        body = s.text if s.text.endswith("\n") else s.text + "\n"
        parts.append(f"{c} Path: {s.path or 'unknown'}\n{body}")
    return "".join(parts)


@dataclass(frozen=True)
class FimTemplate(PromptTemplate):
    """``{pre}{prefix}{suf}{suffix}{mid}`` (or suffix-first for ``spm`` ordering)."""

    pre: str = ""
    suf: str = ""
    mid: str = ""
    spm: bool = False
    pad: str = ""
    """Text around the prefix and after the suffix (CodeLlama's spaces:
    ``<PRE> {prefix} <SUF>{suffix} <MID>``)."""
    file_sep: str | None = None
    repo_name: str | None = None

    def _extra(self, inp: RenderInput) -> list[Segment]:
        if not inp.snippets:
            return []
        if self.file_sep is None:
            return [Segment(_path_comment_block(inp.snippets, inp.language))]
        segs: list[Segment] = []
        if self.repo_name is not None:
            segs += [Segment(self.repo_name, True), Segment(f"{inp.repo or 'workspace'}\n")]
        for s in inp.snippets:
            body = s.text if s.text.endswith("\n") else s.text + "\n"
            segs += [Segment(self.file_sep, True), Segment(f"{s.path or 'unknown'}\n{body}")]
        segs += [Segment(self.file_sep, True), Segment(f"{inp.path or 'untitled'}\n")]
        return segs

    def render(self, inp: RenderInput) -> Prompt:
        segs = self._extra(inp)
        if self.spm:
            segs += [
                Segment(self.suf, True),
                Segment(inp.suffix),
                Segment(self.pre, True),
                Segment(inp.prefix),
            ]
            heals = True
        else:
            segs += [Segment(self.pre, True)]
            segs += [Segment(self.pad + inp.prefix + self.pad)]
            segs += [Segment(self.suf, True), Segment(inp.suffix + self.pad)]
            segs += [Segment(self.mid, True)]
            heals = False
        segs = [s for s in segs if s.text]
        return Prompt(tuple(segs), self.name, True, self.stop, heals)


@dataclass(frozen=True)
class PrefixOnlyTemplate(PromptTemplate):
    """For base models without FIM tokens: other files as path comments, then the prefix."""

    fim: bool = False

    def matches(self, tokens: AbstractSet[str], metadata: Mapping[str, Any]) -> bool:
        return False  # the fallback when nothing else matches (see detect_template)

    def render(self, inp: RenderInput) -> Prompt:
        segs = []
        if inp.snippets:
            segs.append(Segment(_path_comment_block(inp.snippets, inp.language)))
        segs.append(Segment(inp.prefix))
        return Prompt(tuple(s for s in segs if s.text), self.name, False, self.stop, True)


@dataclass(frozen=True)
class ChatCodeTemplate(PromptTemplate):
    """For instruct models without FIM tokens (e.g. SmolLM2-Instruct).

    A bare prefix makes a small instruct model answer in chat prose. Instead the prompt
    opens an assistant turn that has already begun a fenced code block holding the file
    so far, so the most likely continuation is more code, and a closing fence or the end
    of the turn marks the end. The instruction and retrieved snippets come first and stay
    the same between keystrokes, so they stay in the KV cache.
    """

    fim: bool = False
    start: str = "<|im_start|>"
    end: str = "<|im_end|>"
    system: str = (
        "You are a code completion engine. You continue the user's file exactly where it "
        "stops, with correct code only: no explanations."
    )

    def matches(self, tokens: AbstractSet[str], metadata: Mapping[str, Any]) -> bool:
        tmpl = str(metadata.get("tokenizer.chat_template") or "")
        return self.start in tokens and self.end in tokens and self.start in tmpl

    def render(self, inp: RenderInput) -> Prompt:
        fence = markdown_fence_name(inp.language)
        what = f"the file {inp.path}" if inp.path else f"this {inp.language or 'code'} file"
        user = f"Continue {what}."
        if inp.snippets:
            user += "\nRelevant code from the workspace:\n"
            for s in inp.snippets:
                body = s.text if s.text.endswith("\n") else s.text + "\n"
                user += (
                    f"```{fence}\n{line_comment(inp.language)} {s.path or 'unknown'}\n{body}```\n"
                )
        segs = [
            Segment(self.start, True),
            Segment(f"system\n{self.system}"),
            Segment(self.end, True),
            Segment("\n"),
            Segment(self.start, True),
            Segment(f"user\n{user}"),
            Segment(self.end, True),
            Segment("\n"),
            Segment(self.start, True),
            Segment(f"assistant\n```{fence}\n{inp.prefix}"),
        ]
        return Prompt(tuple(segs), self.name, False, self.stop, True)


def builtin_templates() -> list[PromptTemplate]:
    """The templates llamapilot ships (registered as the ``builtin`` entry point)."""
    return [
        FimTemplate(
            name="codellama",
            pre="<PRE>",
            suf="<SUF>",
            mid="<MID>",
            pad=" ",
            stop=("<EOT>",),
            markers=("▁<PRE>", "▁<SUF>", "▁<MID>"),
            priority=5,
        ),
        FimTemplate(
            name="qwen2.5-coder",
            pre="<|fim_prefix|>",
            suf="<|fim_suffix|>",
            mid="<|fim_middle|>",
            file_sep="<|file_sep|>",
            repo_name="<|repo_name|>",
            stop=("<|endoftext|>", "<|file_sep|>", "<|repo_name|>", "<|fim_pad|>", "<|im_end|>"),
            markers=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"),
            priority=10,
        ),
        FimTemplate(
            name="codegemma",
            pre="<|fim_prefix|>",
            suf="<|fim_suffix|>",
            mid="<|fim_middle|>",
            stop=("<|file_separator|>", "<eos>", "<end_of_turn>"),
            markers=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
            excludes=("<|file_sep|>",),
            priority=5,
        ),
        FimTemplate(
            name="starcoder",
            pre="<fim_prefix>",
            suf="<fim_suffix>",
            mid="<fim_middle>",
            stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_middle>"),
            markers=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            priority=5,
        ),
        FimTemplate(
            name="starcoder2",
            pre="<fim_prefix>",
            suf="<fim_suffix>",
            mid="<fim_middle>",
            file_sep="<file_sep>",
            repo_name="<repo_name>",
            stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_middle>"),
            markers=("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>"),
            priority=6,
        ),
        FimTemplate(
            name="santacoder",
            pre="<fim-prefix>",
            suf="<fim-suffix>",
            mid="<fim-middle>",
            stop=("<|endoftext|>",),
            markers=("<fim-prefix>", "<fim-suffix>", "<fim-middle>"),
            priority=5,
        ),
        FimTemplate(
            name="deepseek-coder",
            pre="<｜fim▁begin｜>",
            suf="<｜fim▁hole｜>",
            mid="<｜fim▁end｜>",
            stop=("<｜end▁of▁sentence｜>", "<|EOT|>"),
            markers=("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
            priority=5,
        ),
        FimTemplate(
            name="codestral",
            pre="[PREFIX]",
            suf="[SUFFIX]",
            spm=True,
            stop=("</s>",),
            markers=("[PREFIX]", "[SUFFIX]"),
            priority=5,
        ),
        ChatCodeTemplate(name="chatml-code", stop=("<|im_end|>", "<|endoftext|>"), priority=1),
        PrefixOnlyTemplate(name="prefix-only", stop=("<|endoftext|>", "</s>", "<eos>")),
    ]


@dataclass
class TemplateRegistry:
    """Templates by name, gathered from the ``llamapilot.templates`` entry points."""

    templates: dict[str, PromptTemplate] = field(default_factory=dict)

    @classmethod
    def load(cls) -> TemplateRegistry:
        from llamapilot.plugins import load_entry_points

        reg = cls()
        for factory in load_entry_points("llamapilot.templates"):
            produced = factory() if callable(factory) else factory
            items = produced if isinstance(produced, (list, tuple)) else [produced]
            for t in items:
                reg.templates[t.name] = t
        if "prefix-only" not in reg.templates:  # entry points missing (not installed)
            for t in builtin_templates():
                reg.templates.setdefault(t.name, t)
        return reg

    def get(self, name: str) -> PromptTemplate:
        from llamapilot.errors import UnknownNameError

        try:
            return self.templates[name]
        except KeyError:
            known = ", ".join(sorted(self.templates))
            raise UnknownNameError(f"unknown template {name!r} (known: {known})") from None

    def detect(self, tokens: AbstractSet[str], metadata: Mapping[str, Any]) -> PromptTemplate:
        """The best template for a vocabulary: FIM if the model has the tokens, else
        the chat-code form for chat models, else prefix-only."""
        found = [t for t in self.templates.values() if t.matches(tokens, metadata)]
        if found:
            return max(found, key=lambda t: (t.fim, t.priority))
        return self.templates["prefix-only"]


def detect_template_name(tokens: AbstractSet[str], metadata: Mapping[str, Any]) -> str | None:
    """The FIM template that applies to a model's vocabulary, or None (prefix-only)."""
    t = TemplateRegistry.load().detect(tokens, metadata)
    return t.name if t.fim else None
