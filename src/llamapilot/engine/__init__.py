"""Engines: backends that stream tokens with log-probabilities."""

from llamapilot.engine.base import (
    Backend,
    GenerationParams,
    ModelInfo,
    PromptStats,
    TokenEvent,
    TopLogprob,
)

__all__ = ["Backend", "GenerationParams", "ModelInfo", "PromptStats", "TokenEvent", "TopLogprob"]
