"""The line diff of a text field (a Markdown definition) in emails and on History pages, at a
bounded cost whatever the texts.

difflib's SequenceMatcher (without autojunk, which would ignore blank lines, a Markdown
document's most common line) compares every pair of equal lines it meets, so two texts of many
repeated or shuffled lines cost it minutes. Here the lines both texts start and end with are set
aside first; in what is left, lines found once in each text and in the same order (the anchors
of a "patience" diff) cut it into short stretches when comparing it whole would be costly; and
difflib compares the stretches while the lines it looks at stay within `DIFF_BUDGET`. Past that
the change is summarised by its sizes instead. A page or an email with many diffs shares
`SHARED_BUDGET` among them (`shared_budget`). The budget is checked at read time, so history
rows written before it existed are as safe as new ones.
"""

import difflib
from bisect import bisect_left
from collections import Counter
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
#: Lines difflib may look at for one diff (each line of the compared stretches, and each pair
#: of equal lines it meets); docs/PERFORMANCE.md says what that costs.
DIFF_BUDGET = 1_000_000
#: What all the diffs of one page or email may spend together.
SHARED_BUDGET = 3 * DIFF_BUDGET
#: What a diff may spend even when its page's budget is spent: small changes always show.
MIN_BUDGET = 10_000

_shared: ContextVar[list[int] | None] = ContextVar("line_diff_budget", default=None)


@contextmanager
def shared_budget(total: int | None = None) -> Iterator[None]:
    """Within this block the line diffs together spend at most `total` (SHARED_BUDGET), so a
    page or an email of many long diffs summarises the ones past it. Inside another such
    block, the outer budget stays the one that counts (a digest of many change sets)."""
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


class _Budget:
    def __init__(self, allowed: int) -> None:
        self.left = allowed

    def spend(self, cost: int) -> None:
        self.afford(cost)
        self.left -= cost

    def afford(self, cost: int) -> None:
        if cost > self.left:
            raise _OverBudget


class _BudgetedMatcher(difflib.SequenceMatcher):
    """difflib's matcher, stopped once it has looked at more lines than its budget allows."""

    def __init__(self, a: list[str], b: list[str], budget: _Budget) -> None:
        budget.spend(len(a) + len(b))
        super().__init__(None, a, b, autojunk=False)
        self.budget = budget
        # What find_longest_match(alo, ahi, ...) may cost: the lines of b equal to each line
        # of a[alo:ahi], plus one step a line.
        self._cost = list(accumulate((len(self.b2j.get(line, ())) + 1 for line in a), initial=0))

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        self.budget.spend(self._cost[ahi] - self._cost[alo])
        return super().find_longest_match(alo, ahi, blo, bhi)

    def blocks_between(self, alo: int, ahi: int, blo: int, bhi: int) -> list[tuple]:
        """The matching blocks of a[alo:ahi] and b[blo:bhi], as difflib finds them: the
        longest, then the same on each side of it."""
        blocks, ranges = [], [(alo, ahi, blo, bhi)]
        while ranges:
            alo, ahi, blo, bhi = ranges.pop()
            if alo == ahi or blo == bhi:
                continue
            i, j, size = self.find_longest_match(alo, ahi, blo, bhi)
            if size:
                blocks.append((i, j, size))
                ranges += [(alo, i, blo, j), (i + size, ahi, j + size, bhi)]
        return blocks


def _common_ends(a: list[str], b: list[str], chunk: int = 256) -> tuple[int, int]:
    """How many lines `a` and `b` share at their start and at their end (slices are compared
    in C, a chunk at a time)."""
    shortest = min(len(a), len(b))
    start = 0
    while start + chunk <= shortest and a[start : start + chunk] == b[start : start + chunk]:
        start += chunk
    while start < shortest and a[start] == b[start]:
        start += 1
    end, left = 0, shortest - start
    while (
        end + chunk <= left
        and a[len(a) - end - chunk : len(a) - end] == b[len(b) - end - chunk : len(b) - end]
    ):
        end += chunk
    while end < left and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


def _anchors(a: list[str], b: list[str], counts_a: Counter, counts_b: Counter) -> list[tuple]:
    """(i, j) of lines found exactly once in `a` and once in `b`: the longest run of them in
    the same order in both (patience sorting, n log n)."""
    once = {line for line, count in counts_a.items() if count == 1 and counts_b[line] == 1}
    if not once:
        return []
    where_in_b = {line: j for j, line in enumerate(b) if line in once}
    pairs = [(i, where_in_b[line]) for i, line in enumerate(a) if line in once]
    tails: list[int] = []  # tails[k]: the smallest j ending an increasing run of k + 1 pairs
    tail_index: list[int] = []
    previous = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[k], tail_index[k] = j, index
        previous[index] = tail_index[k - 1] if k else -1
    run, index = [], tail_index[-1] if tail_index else -1
    while index >= 0:
        run.append(pairs[index])
        index = previous[index]
    return run[::-1]


def _first_search(a: list[str], counts_a: Counter, counts_b: Counter) -> int:
    """What difflib's first search over the whole of `a` and `b` looks at: each line of `a`,
    and each line of `b` equal to it."""
    return len(a) + sum(counts_b[line] * count for line, count in counts_a.items())


def _matching_blocks(a: list[str], b: list[str], budget: _Budget) -> list[tuple[int, int, int]]:
    """(i, j, size) of the stretches of `a` and `b` found equal, in order.

    difflib on the whole of both when that looks cheap (its first search looks at a quarter
    of the budget at most), as it always did; otherwise, or if it turns out costly, difflib
    between the anchors, on stretches short enough for their repeated lines not to matter.
    """
    budget.spend(len(a) + len(b))
    counts_a, counts_b = Counter(a), Counter(b)
    if _first_search(a, counts_a, counts_b) <= budget.left // 4:
        trial = _Budget(budget.left // 2)
        try:
            blocks = _BudgetedMatcher(a, b, trial).blocks_between(0, len(a), 0, len(b))
        except _OverBudget:
            budget.spend(budget.left // 2)
        else:
            budget.spend(budget.left // 2 - trial.left)
            return sorted(blocks)
    anchors = _anchors(a, b, counts_a, counts_b)
    blocks, i, j = [], 0, 0
    for anchor_i, anchor_j in [*anchors, (len(a), len(b))]:
        old, new = a[i:anchor_i], b[j:anchor_j]
        if old == new:
            if old:
                blocks.append((i, j, len(old)))
        elif old and new:
            stretch_counts = Counter(old) if anchors else counts_a
            # Before difflib indexes the stretch: its first search alone may be too costly.
            budget.afford(_first_search(old, stretch_counts, Counter(new) if anchors else counts_b))
            found = _BudgetedMatcher(old, new, budget).blocks_between(0, len(old), 0, len(new))
            blocks += [(i + x, j + y, size) for x, y, size in found]
        if anchor_i < len(a):
            blocks.append((anchor_i, anchor_j, 1))
        i, j = anchor_i + 1, anchor_j + 1
    return sorted(blocks)


def _opcodes(start: int, end: int, blocks, size_a: int, size_b: int) -> list[tuple]:
    """difflib's opcodes of the whole texts: equal lines at both ends, the middle's blocks
    (shifted to the whole texts' positions), and what lies between them."""
    shifted = [(start + i, start + j, size) for i, j, size in blocks]
    matches = [(0, 0, start), *shifted, (size_a - end, size_b - end, end)]
    codes: list[tuple] = []
    i = j = 0
    for block_i, block_j, size in matches:
        if not size:
            continue
        tag = ""
        if i < block_i and j < block_j:
            tag = "replace"
        elif i < block_i:
            tag = "delete"
        elif j < block_j:
            tag = "insert"
        if tag:
            codes.append((tag, i, block_i, j, block_j))
        if codes and codes[-1][0] == "equal":
            _, i1, _, j1, _ = codes.pop()
            codes.append(("equal", i1, block_i + size, j1, block_j + size))
        else:
            codes.append(("equal", block_i, block_i + size, block_j, block_j + size))
        i, j = block_i + size, block_j + size
    if i < size_a or j < size_b:
        tag = "replace" if i < size_a and j < size_b else "delete" if i < size_a else "insert"
        codes.append((tag, i, size_a, j, size_b))
    return codes


def _groups(codes: list[tuple], context: int) -> list[list[tuple]]:
    """The opcodes in groups of changes with `context` equal lines around them, as difflib's
    get_grouped_opcodes makes them."""
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups, group = [], []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


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
    different to compare within `budget` (DIFF_BUDGET)."""
    old, new = old or "", new or ""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if old_lines == new_lines:
        return LineDiff()
    shared = _shared.get()
    allowed = DIFF_BUDGET if budget is None else budget
    granted = allowed if shared is None else max(MIN_BUDGET, min(allowed, shared[0]))
    spending = _Budget(granted)
    start, end = _common_ends(old_lines, new_lines)
    middle_old = old_lines[start : len(old_lines) - end]
    middle_new = new_lines[start : len(new_lines) - end]
    try:
        blocks = _matching_blocks(middle_old, middle_new, spending)
    except _OverBudget:
        return LineDiff(summary=_summary(old, new, old_lines, new_lines))
    finally:
        if shared is not None:
            shared[0] -= granted - spending.left
    codes = _opcodes(start, end, blocks, len(old_lines), len(new_lines))
    # One more line than needed, as blank lines (Markdown paragraphs) don't count as context.
    groups = _groups(codes, DIFF_CONTEXT + 1)
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
