"""The line diff of a text field (a Markdown definition) in emails and on History pages, at a
bounded cost whatever the texts.

difflib's SequenceMatcher (without autojunk, which would ignore blank lines, a Markdown
document's most common line) compares every pair of equal lines it meets, so two texts of many
repeated or shuffled lines cost it minutes. Here the lines both texts start and end with are set
aside first (linear), the rest is compared by difflib while the number of line pairs it looks at
stays within `DIFF_BUDGET`, and past that the change is summarised by its sizes instead. A page
or an email with many diffs shares `SHARED_BUDGET` among them (`shared_budget`). The budget is
checked at read time, so history rows written before it existed are as safe as new ones.
"""

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import accumulate

__all__ = [
    "DIFF_BUDGET",
    "DIFF_CONTEXT",
    "DIFF_MAX_LINES",
    "SHARED_BUDGET",
    "LineDiff",
    "line_diff",
    "shared_budget",
]

#: Context lines around each changed line.
DIFF_CONTEXT = 1
#: Longer diffs are cut here (the link leads to the whole text).
DIFF_MAX_LINES = 40
#: Pairs of equal lines difflib may look at for one diff: two edits far apart in the longest
#: definition need about 700,000. See docs/PERFORMANCE.md for what it costs.
DIFF_BUDGET = 1_000_000
#: What all the diffs of one page or email may spend together.
SHARED_BUDGET = 3 * DIFF_BUDGET

_shared: ContextVar[list[int] | None] = ContextVar("line_diff_budget", default=None)


@contextmanager
def shared_budget(total: int | None = None) -> Iterator[None]:
    """Within this block the line diffs together look at most `total` (SHARED_BUDGET) pairs
    of lines, so a page or an email of many long diffs summarises the ones past it. Inside
    another such block, the outer budget stays the one that counts (a digest of many change
    sets)."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set([SHARED_BUDGET if total is None else total])
    try:
        yield
    finally:
        _shared.reset(token)


@dataclass
class LineDiff:
    """The changed lines of a text with a little context, or a summary of the change."""

    #: (marker, line) pairs; marker is " ", "-", "+" or "…" (skipped lines).
    lines: list[tuple[str, str]] = field(default_factory=list)
    #: Lines left out past DIFF_MAX_LINES.
    cut: int = 0
    #: Set instead of `lines` when comparing the texts would cost too much.
    summary: str = ""


class _OverBudget(Exception):
    pass


class _BudgetedMatcher(difflib.SequenceMatcher):
    """A SequenceMatcher that gives up once it has looked at `budget` pairs of equal lines, and
    first sets aside the lines both texts start and end with."""

    def __init__(self, a: list[str], b: list[str], budget: int) -> None:
        super().__init__(None, a, b, autojunk=False)
        self.budget = budget
        # What find_longest_match(alo, ahi, ...) may cost: the lines of b equal to each line
        # of a[alo:ahi], plus one step a line.
        self._cost = list(accumulate((len(self.b2j.get(line, ())) + 1 for line in a), initial=0))

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        cost = self._cost[ahi] - self._cost[alo]
        if cost > self.budget:
            raise _OverBudget
        self.budget -= cost
        return super().find_longest_match(alo, ahi, blo, bhi)

    def get_matching_blocks(self):
        if self.matching_blocks is not None:
            return self.matching_blocks
        a, b = self.a, self.b
        shortest = min(len(a), len(b))
        start = 0
        while start < shortest and a[start] == b[start]:
            start += 1
        end = 0
        while end < shortest - start and a[-1 - end] == b[-1 - end]:
            end += 1
        blocks = [(0, 0, start)]
        ranges = [(start, len(a) - end, start, len(b) - end)]
        while ranges:
            alo, ahi, blo, bhi = ranges.pop()
            if alo == ahi or blo == bhi:
                continue
            i, j, size = self.find_longest_match(alo, ahi, blo, bhi)
            if size:
                blocks.append((i, j, size))
                ranges.append((alo, i, blo, j))
                ranges.append((i + size, ahi, j + size, bhi))
        blocks.append((len(a) - end, len(b) - end, end))
        blocks.sort()
        merged: list[tuple[int, int, int]] = []
        for i, j, size in blocks:
            if not size:
                continue
            if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
                merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + size)
            else:
                merged.append((i, j, size))
        merged.append((len(a), len(b), 0))
        self.matching_blocks = [difflib.Match(*block) for block in merged]
        return self.matching_blocks


def _count(number: int, unit: str) -> str:
    return f"{number:,} {unit}{'' if number == 1 else 's'}"


def _summary(old: str, new: str, old_lines: list[str], new_lines: list[str]) -> str:
    """ "4,000 → 4,012 lines, 81,200 → 81,950 characters"."""
    lines = f"{len(old_lines):,} → {_count(len(new_lines), 'line')}"
    characters = f"{len(old):,} → {_count(len(new), 'character')}"
    return f"{lines}, {characters}"


def line_diff(old: str | None, new: str | None, *, budget: int | None = None) -> LineDiff:
    """The changed lines between two versions of a text, with DIFF_CONTEXT lines of context
    (blank lines don't count), at most DIFF_MAX_LINES; a summary when the texts are too
    different to compare within `budget` (DIFF_BUDGET) pairs of lines."""
    budget = DIFF_BUDGET if budget is None else budget
    old, new = old or "", new or ""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if old_lines == new_lines:
        return LineDiff()
    shared = _shared.get()
    allowed = budget if shared is None else min(budget, shared[0])
    matcher = _BudgetedMatcher(old_lines, new_lines, allowed)
    try:
        # One more line than needed, as blank lines (Markdown paragraphs) don't count as
        # context.
        groups = list(matcher.get_grouped_opcodes(DIFF_CONTEXT + 1))
    except _OverBudget:
        return LineDiff(summary=_summary(old, new, old_lines, new_lines))
    finally:
        if shared is not None:
            shared[0] -= allowed - matcher.budget
    lines: list[tuple[str, str]] = []
    for group in groups:
        if lines or group[0][1] > 0:
            lines.append(("…", ""))
        for index, (tag, i1, i2, j1, j2) in enumerate(group):
            if tag == "equal":
                context = [line for line in old_lines[i1:i2] if line.strip()]
                if index == 0:
                    context = context[-DIFF_CONTEXT:]
                elif index == len(group) - 1:
                    context = context[:DIFF_CONTEXT]
                elif len(context) > 2 * DIFF_CONTEXT:
                    lines.extend((" ", line) for line in context[:DIFF_CONTEXT])
                    lines.append(("…", ""))
                    context = context[-DIFF_CONTEXT:]
                lines.extend((" ", line) for line in context)
                continue
            if tag in ("replace", "delete"):
                lines.extend(("-", line) for line in old_lines[i1:i2])
            if tag in ("replace", "insert"):
                lines.extend(("+", line) for line in new_lines[j1:j2])
    if groups[-1][-1][2] < len(old_lines):
        lines.append(("…", ""))
    cut = max(0, len(lines) - DIFF_MAX_LINES)
    return LineDiff(lines=lines[:DIFF_MAX_LINES], cut=cut)
