"""Pick the lines the prompt carries, within a token budget (tiktoken).

Prefill costs about 20 ms a token on two cores, so every prompt token is time
to first token, and a small model copies better from a short context. The best
lines of all retrieved passages (see ``linescore``) become anchors, best
first; each anchor brings the lines that make it readable:

- its parent: the nearest line above it that is indented less (a config key
  for an indented option list);
- its children: the more-indented lines under it, or the block a line ending
  in a colon introduces;
- a comment line right above it, which usually says what it does;
- for a short title line (``15. gang plugin``), the line under it however long:
  that line says what the title is.

The order matters when the budget is tight:

1. lines within 3 % of the best, as bare lines: either may be the answer (the
   curl POST and PUT lines);
2. the best line, readable (its option list, its parent key);
3. lines within 30 % of the best, as bare lines, up to five pieces: a strong
   runner-up may be the answer (a config key the question paraphrases) and
   matters more than anyone's neighbours;
4. the other anchors, with their neighbours, while budget is left.

On 199 covered eval questions, steps 2-3 (instead of taking each anchor with
its neighbours, best first, at most four pieces) put a gold line in the prompt
for 181 instead of 177, at the same prompt size (152 tokens on average).

Windows that touch or nearly touch in one section are joined, so every piece of
evidence is an exact, contiguous range of the notes and a citation points at
the lines the model really saw. Anchors much weaker than the best one are not
taken, so an unrelated section does not pad the prompt, unless they hold a part
of the question that nothing taken so far holds (the second half of "how do I
restart A and B?").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.linescore import ScoredPassage

PARENT_REACH = 6  # lines to look up for a parent
NEIGHBOUR_TOKENS = 40  # a lone line brings a neighbour up to this size
TITLE_TOKENS = 8  # ... or, when it is this short (a title), the line under it whatever its size
NEAR_TIE = 0.97  # a runner-up this close to the best line may be the answer as well as the best
JOIN_GAP = 2  # join two windows of one section when at most this many lines lie between


@dataclass(frozen=True)
class Evidence:
    n: int
    source: str
    heading: str
    start_line: int
    end_line: int
    text: str  # redacted source lines start_line..end_line

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _is_comment(line: str) -> bool:
    s = line.strip()
    return s.startswith(("#", "//", "--", ";")) and not s.startswith("#!")


def _fence_around(lines: list[str], i: int) -> tuple[int, int] | None:
    """The [a, b) of the fenced code block holding line ``i``, fence lines included, if any."""
    opened = None
    for j, line in enumerate(lines):
        if line.strip().startswith(("```", "~~~")):
            if opened is None:
                opened = j
            else:
                if opened < i < j:
                    return opened, j + 1
                opened = None
        elif j > i and opened is None:
            return None
    return None


def _children(lines: list[str], i: int, b: int, count: Callable[[str], int], room: int) -> int:
    """Extend [.., b) over the lines under line ``i``: more indented, or the block its colon opens."""
    me = _indent(lines[i])
    opens = lines[i].rstrip().endswith((":", "："))
    while b < len(lines) and lines[b].strip() and (_indent(lines[b]) > me or (opens and _indent(lines[b]) >= me)):
        room -= count(lines[b]) + 1
        if room < 0:
            break
        b += 1
    return b


def window(lines: list[str], i: int, count: Callable[[str], int], cap: int) -> tuple[int, int]:
    """0-based [a, b) around line ``i``: its whole fenced block if that fits ``cap``; else the line,
    then its parent, children and intro while they fit."""
    block = _fence_around(lines, i)
    if block is not None and sum(count(x) + 1 for x in lines[block[0] : block[1]]) <= cap:
        return block
    a, b = i, i + 1
    used = count(lines[i])

    def fits(lo: int, hi: int) -> bool:
        return used + sum(count(x) + 1 for x in lines[lo:hi]) <= cap

    me = _indent(lines[i])
    if me > 0:  # parent: nearest less-indented non-blank line above, with the lines between
        for j in range(i - 1, max(-1, i - 1 - PARENT_REACH), -1):
            if lines[j].strip() and _indent(lines[j]) < me:
                if fits(j, a):
                    used += sum(count(x) + 1 for x in lines[j:a])
                    a = j
                break
    b = _children(lines, b - 1, b, count, cap - used)
    if b < len(lines) and not _is_comment(lines[i]) and _is_comment(lines[b]) and _indent(lines[b]) >= me:
        # a config line explained by the comment under it ("JobCompType=...", "# one of:")
        if fits(b, b + 1):
            b = _children(lines, b, b + 1, count, cap - used - count(lines[b]) - 1)
    used = sum(count(x) + 1 for x in lines[a:b])
    if a > 0 and _is_comment(lines[a - 1]) and not _is_comment(lines[a]) and fits(a - 1, a):
        a -= 1
    if b - a == 1:  # a lone line: its neighbours usually say what it is for, or show how (a title, then the command)
        title = count(lines[i]) <= TITLE_TOKENS  # "15. gang plugin": what it is comes under it, however long
        if b < len(lines) and lines[b].strip() and (title or count(lines[b]) <= NEIGHBOUR_TOKENS) and fits(b, b + 1):
            used += count(lines[b]) + 1
            b += 1
        if a > 0 and lines[a - 1].strip() and count(lines[a - 1]) <= NEIGHBOUR_TOKENS and fits(a - 1, a):
            a -= 1
    return a, b


def select(
    scored: list[ScoredPassage],
    count: Callable[[str], int],
    *,
    budget: int,
    window_tokens: int = 150,
    min_ratio: float = 0.6,
    floor_ratio: float = 0.3,
    runner_up: float = 0.7,
    new_terms: float = 0.1,
    max_pieces: int = 5,
) -> list[Evidence]:
    anchors = sorted(
        ((s, pi, li) for pi, sp in enumerate(scored) for li, s in enumerate(sp.scores) if s > 0),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    if not anchors:
        return []
    top = anchors[0][0]
    split = [sp.passage.text.split("\n") for sp in scored]
    weights = scored[0].weights
    total = sum(weights.values()) or 1.0
    covered: set[str] = set()
    ranges: dict[int, list[tuple[int, int, float]]] = {}  # passage -> [(a, b, best anchor score)]
    seeded: set[tuple[int, int]] = set()

    def fits(trial: dict[int, list[tuple[int, int, float]]], free: bool = False) -> bool:
        """Within the piece limit, and within the budget unless ``free`` (the first piece)."""
        return sum(len(v) for v in trial.values()) <= max_pieces and (free or _cost(trial, scored, split, count) <= budget)

    def bare(ratio: float) -> None:
        """Each line within ``ratio`` of the best, alone, while pieces and budget allow."""
        nonlocal ranges
        for s, pi, li in anchors:
            if s < ratio * top:
                break
            if any(a <= li < b for a, b, _ in ranges.get(pi, [])):
                continue
            trial = {**ranges, pi: _join(ranges.get(pi, []) + [(li, li + 1, s)], 0)}
            if fits(trial):
                ranges = trial
                seeded.add((pi, li))

    def widen(s: float, pi: int, li: int) -> None:
        """Line ``li`` with the lines that make it readable (``window``), if that fits."""
        nonlocal ranges
        a, b = window(split[pi], li, count, window_tokens)
        for gap in (JOIN_GAP, 0):  # fill a small gap between two windows, unless that costs too much
            trial = {**ranges, pi: _join(ranges.get(pi, []) + [(a, b, s)], gap)}
            if fits(trial, free=not ranges):
                ranges = trial
                if scored[pi].covers:
                    covered.update(t for c in scored[pi].covers[a:b] for t in c)
                return

    bare(NEAR_TIE)  # a near-tied runner-up before the best line's neighbours
    widen(*anchors[0])  # the best line, readable
    bare(runner_up)  # strong runner-ups, before anyone else's neighbours
    for s, pi, li in anchors:
        if s < floor_ratio * top:
            break
        if (pi, li) not in seeded and any(a <= li < b for a, b, _ in ranges.get(pi, [])):
            continue
        terms = scored[pi].covers[li] if scored[pi].covers else frozenset()
        gain = sum(weights.get(t, 0.0) for t in terms - covered) / total
        if s < min_ratio * top and gain < new_terms:
            continue  # weaker than the best, and adds no part of the question not already shown
        widen(s, pi, li)
    pieces = sorted(((s, pi, a, b) for pi, rs in ranges.items() for a, b, s in rs), key=lambda x: (-x[0], x[1], x[2]))
    out = []
    for n, (_, pi, a, b) in enumerate(pieces, 1):
        p = scored[pi].passage
        text = "\n".join(split[pi][a:b])
        cost = count(text)
        if cost > budget:  # one enormous line: show its start (the range still names it whole)
            text = text[: max(1, len(text) * budget // cost)] + " …"
        out.append(Evidence(n, p.source, p.heading, p.start_line + a, p.start_line + b - 1, text))
    return out


def _join(rs: list[tuple[int, int, float]], gap: int) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for a, b, s in sorted(rs):
        if out and a - out[-1][1] <= gap:
            pa, pb, ps = out[-1]
            out[-1] = (pa, max(pb, b), max(ps, s))
        else:
            out.append((a, b, s))
    return out


def _cost(
    ranges: dict[int, list[tuple[int, int, float]]],
    scored: list[ScoredPassage],
    split: list[list[str]],
    count: Callable[[str], int],
) -> int:
    return sum(
        count("\n".join(split[pi][a:b])) + count(scored[pi].passage.heading) + 4 for pi, rs in ranges.items() for a, b, _ in rs
    )
