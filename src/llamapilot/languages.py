"""Language identification from file names, and per-language facts used by the pipeline."""

from __future__ import annotations

from pathlib import PurePath

# extension -> language id (LSP language identifiers where they exist)
_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".lua": "lua",
    ".sh": "shellscript",
    ".bash": "shellscript",
    ".sql": "sql",
    ".html": "html",
    ".css": "css",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".md": "markdown",
}

_ALIASES: dict[str, str] = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "typescript",
    "tsx": "typescriptreact",
    "jsx": "javascript",
    "javascriptreact": "javascript",
    "golang": "go",
    "rs": "rust",
    "c++": "cpp",
    "sh": "shellscript",
    "bash": "shellscript",
}

# How a line comment starts, used to tag retrieved snippets with their path.
LINE_COMMENT: dict[str, str] = {
    "python": "#",
    "ruby": "#",
    "shellscript": "#",
    "yaml": "#",
    "toml": "#",
    "sql": "--",
    "lua": "--",
}


def normalize_language(name: str | None) -> str | None:
    """Map a user- or editor-given language name to llamapilot's identifier."""
    if not name:
        return None
    key = name.strip().lower()
    return _ALIASES.get(key, key)


def language_from_path(path: str | PurePath | None) -> str | None:
    if path is None:
        return None
    return _EXTENSIONS.get(PurePath(str(path)).suffix.lower())


def line_comment(language: str | None) -> str:
    return LINE_COMMENT.get(language or "", "//")


def markdown_fence_name(language: str | None) -> str:
    """The info string a markdown code fence uses for this language."""
    if language == "typescriptreact":
        return "tsx"
    if language == "shellscript":
        return "bash"
    return language or ""
