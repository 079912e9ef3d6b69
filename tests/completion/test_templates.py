"""Each template's exact prompt string, and detection from a model's vocabulary."""

from __future__ import annotations

import pytest

from llamapilot.completion.templates import (
    RenderInput,
    TemplateRegistry,
    builtin_templates,
    detect_template_name,
)
from llamapilot.context.snippets import Snippet
from llamapilot.errors import UnknownNameError

PRE, SUF = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return TemplateRegistry.load()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("starcoder", f"<fim_prefix>{PRE}<fim_suffix>{SUF}<fim_middle>"),
        ("starcoder2", f"<fim_prefix>{PRE}<fim_suffix>{SUF}<fim_middle>"),
        ("santacoder", f"<fim-prefix>{PRE}<fim-suffix>{SUF}<fim-middle>"),
        ("qwen2.5-coder", f"<|fim_prefix|>{PRE}<|fim_suffix|>{SUF}<|fim_middle|>"),
        ("codellama", f"<PRE> {PRE} <SUF>{SUF} <MID>"),
        ("deepseek-coder", f"<｜fim▁begin｜>{PRE}<｜fim▁hole｜>{SUF}<｜fim▁end｜>"),
        ("codegemma", f"<|fim_prefix|>{PRE}<|fim_suffix|>{SUF}<|fim_middle|>"),
        ("codestral", f"[SUFFIX]{SUF}[PREFIX]{PRE}"),
        ("prefix-only", PRE),
    ],
)
def test_exact_prompt_strings(registry: TemplateRegistry, name: str, expected: str) -> None:
    prompt = registry.get(name).render(RenderInput(PRE, SUF, path="m.py", language="python"))
    assert prompt.text == expected
    assert prompt.template == name


def test_special_segments_are_only_the_control_tokens(registry: TemplateRegistry) -> None:
    code = "x = '<fim_suffix>'  # looks like a control token\n"
    prompt = registry.get("starcoder").render(RenderInput(code, ""))
    specials = [s.text for s in prompt.segments if s.special]
    assert specials == ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"]
    assert any(code in s.text for s in prompt.segments if not s.special)


def test_qwen_repo_level_form_puts_extra_files_first(registry: TemplateRegistry) -> None:
    extra = [Snippet("def helper():\n    pass\n", "pkg/util.py", 1, 2, "definition")]
    prompt = registry.get("qwen2.5-coder").render(
        RenderInput(PRE, SUF, extra, path="pkg/main.py", language="python", repo="demo")
    )
    assert prompt.text == (
        "<|repo_name|>demo\n"
        "<|file_sep|>pkg/util.py\ndef helper():\n    pass\n"
        "<|file_sep|>pkg/main.py\n"
        f"<|fim_prefix|>{PRE}<|fim_suffix|>{SUF}<|fim_middle|>"
    )
    assert "<|file_sep|>" in prompt.stop


def test_models_without_file_separators_get_path_comments(registry: TemplateRegistry) -> None:
    extra = [Snippet("function helper() {}\n", "src/util.js", 3, 3, "similar")]
    prompt = registry.get("codegemma").render(
        RenderInput("helper(", ");\n", extra, path="src/main.js", language="javascript")
    )
    assert prompt.text.startswith("// Path: src/util.js\nfunction helper() {}\n<|fim_prefix|>")
    prompt = registry.get("prefix-only").render(
        RenderInput("x = ", "", extra, path="a.py", language="python")
    )
    assert prompt.text == "# Path: src/util.js\nfunction helper() {}\nx = "


def test_chat_code_template_opens_a_code_block_in_the_assistant_turn(
    registry: TemplateRegistry,
) -> None:
    prompt = registry.get("chatml-code").render(
        RenderInput(PRE, SUF, path="m.py", language="python")
    )
    assert prompt.text.endswith(f"<|im_start|>assistant\n```python\n{PRE}")
    assert prompt.text.startswith("<|im_start|>system\n")
    assert "<|im_end|>" in prompt.stop
    assert not prompt.fim and prompt.heals


@pytest.mark.parametrize(
    ("tokens", "metadata", "expected"),
    [
        ({"<fim_prefix>", "<fim_suffix>", "<fim_middle>"}, {}, "starcoder"),
        (
            {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>"},
            {},
            "starcoder2",
        ),
        (
            {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"},
            {},
            "qwen2.5-coder",
        ),
        ({"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"}, {}, "codegemma"),
        ({"▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"}, {}, "codellama"),
        ({"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}, {}, "deepseek-coder"),
        ({"[PREFIX]", "[SUFFIX]"}, {}, "codestral"),
        ({"<fim-prefix>", "<fim-suffix>", "<fim-middle>"}, {}, "santacoder"),
        ({"<|im_start|>", "<|im_end|>"}, {"tokenizer.chat_template": "<|im_start|>"}, None),
        ({"hello"}, {}, None),
    ],
)
def test_detection(tokens: set[str], metadata: dict, expected: str | None) -> None:
    assert detect_template_name(tokens, metadata) == expected


def test_detection_falls_back_to_chat_code_then_prefix_only(registry: TemplateRegistry) -> None:
    chat = registry.detect(
        {"<|im_start|>", "<|im_end|>"}, {"tokenizer.chat_template": "{{'<|im_start|>'}}"}
    )
    assert chat.name == "chatml-code"
    assert registry.detect({"a", "b"}, {}).name == "prefix-only"


def test_unknown_template_names_the_known_ones(registry: TemplateRegistry) -> None:
    with pytest.raises(UnknownNameError, match="unknown template 'nope'.*starcoder"):
        registry.get("nope")


def test_builtins_are_registered_through_the_entry_point(registry: TemplateRegistry) -> None:
    assert {t.name for t in builtin_templates()} <= set(registry.templates)
