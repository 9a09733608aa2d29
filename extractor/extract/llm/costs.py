"""Token usage and estimated cost of model calls (per call, per report, per run).

Prices are per 1M tokens in US dollars. The defaults are list prices at the time of writing
for a few common models; override or extend them in the config file
(`[llm.prices."<model>"] input = 0.15  output = 0.6`). An unknown model has an unknown cost
(None), never a guessed one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelPrice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0, description="USD per 1M input (prompt) tokens.")
    output: float = Field(ge=0, description="USD per 1M output (completion) tokens.")


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
    "deepseek-chat": ModelPrice(input=0.27, output=1.10),
    "deepseek-reasoner": ModelPrice(input=0.55, output=2.19),
}


class TokenUsage(BaseModel):
    """Tokens of one or more model calls; every HTTP answer counts, re-asks included."""

    input_tokens: int = 0
    output_tokens: int = 0
    #: Answers that carried no usage block (their tokens are unknown, so totals are a floor).
    answers_without_usage: int = 0

    def add_answer(self, usage: object | None) -> None:
        """Add the `usage` block of one chat completion (None: counted as unknown)."""
        if usage is None:
            self.answers_without_usage += 1
            return
        self.input_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        self.output_tokens += int(getattr(usage, "completion_tokens", 0) or 0)

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            answers_without_usage=self.answers_without_usage + other.answers_without_usage,
        )

    @classmethod
    def total(cls, usages: Iterable[TokenUsage]) -> TokenUsage:
        result = cls()
        for usage in usages:
            result = result + usage
        return result


def estimate_cost(usage: TokenUsage, price: ModelPrice | None) -> float | None:
    """Estimated USD cost of `usage`, or None if the model's price is unknown."""
    if price is None:
        return None
    return (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000


def sum_costs(costs: Iterable[float | None]) -> float | None:
    """Sum of known costs; None if any is unknown (a partial sum would understate the bill)."""
    total = 0.0
    for cost in costs:
        if cost is None:
            return None
        total += cost
    return total


CallStatus = Literal["ok", "cached", "salvaged", "fallback"]


class CallRecord(BaseModel):
    """One logical model call (a section chunk or the meta call), as logged and reported.

    `status`: ok (a valid answer), cached (served from the cache, no request), salvaged (no
    valid answer after the re-asks: the best answer's items kept, flagged), fallback (no
    usable answer: the rules backend's items kept, flagged). Never holds a key or headers.
    """

    kind: Literal["items", "meta", "outline"]
    section: str
    status: CallStatus
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    duration_ms: int = 0
    input_chars: int = Field(default=0, description="Characters of the variable (user) part sent once.")
    error: str | None = None
    started_at: dt.datetime | None = None
