"""Chat prompts from the model's own chat template (GGUF ``tokenizer.chat_template``).

The template is Jinja code shipped inside the model file, so it runs in Jinja's immutable
sandbox: no attribute access to Python internals, no mutation of the messages passed in.
Models without a template get ChatML, the format of the embedded SmolLM2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from llamapilot.engine.base import ModelInfo
from llamapilot.errors import InputError

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
ROLES = ("system", "user", "assistant", "tool", "developer")


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


def _raise(message: str) -> None:
    raise TemplateError(message)


class ChatTemplate:
    """Renders a conversation into the prompt text the model was trained on."""

    def __init__(self, source: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        self.source = source or CHATML
        self.bos_token = bos_token
        self.eos_token = eos_token
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
        )
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = env.from_string(self.source)
        except TemplateError as exc:
            raise InputError(f"the model's chat template does not compile: {exc}") from None

    @classmethod
    def for_model(cls, info: ModelInfo, token_text: Any = None) -> ChatTemplate:
        """The template of a loaded model; ``token_text(id)`` names its BOS/EOS tokens."""

        def name(key: str) -> str:
            raw = info.metadata.get(f"tokenizer.ggml.{key}_token_id")
            if raw is None or token_text is None:
                return ""
            try:
                return str(token_text(int(str(raw))))
            except (ValueError, TypeError):
                return ""

        return cls(info.chat_template, bos_token=name("bos"), eos_token=name("eos"))

    @property
    def stop_strings(self) -> list[str]:
        """Token texts that end an assistant turn."""
        stops = [s for s in (self.eos_token, "<|im_end|>", "<|eot_id|>", "<|end|>") if s]
        return list(dict.fromkeys(stops))

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        if not messages:
            raise InputError("messages must not be empty", param="messages")
        items = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return self._template.render(
                messages=items,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError as exc:
            raise InputError(
                f"the chat template rejected the messages: {exc}", param="messages"
            ) from None
        except (TypeError, ValueError, KeyError) as exc:
            raise InputError(f"the chat template failed: {exc}", param="messages") from None
