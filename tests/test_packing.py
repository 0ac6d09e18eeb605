"""Evidence selection: which exact lines of the retrieved passages go into the prompt."""

from __future__ import annotations

from typing import Any

from assistant.linescore import LineScorer, ScoredPassage, _distinct, _lexical
from assistant.packing import select, window
from assistant.retrieval import Corpus
from assistant.types import Passage
from index.lexical import LexicalIndex


def count(text: str) -> int:
    return len(text.split())  # a word counter is enough to test the budget logic


def scored(start: int, text: str, scores: list[float], heading: str = "h") -> ScoredPassage:
    lines = text.split("\n")
    assert len(lines) == len(scores)
    return ScoredPassage(Passage("notes.md", heading, start, start + len(lines) - 1, text, 0.0), tuple(scores))


CONF = """SchedulerType=sched/backfill # the scheduler
    # sched/builtin # fifo
    # sched/hold # hold jobs when /etc/slurm.hold exists
Other=1"""


def test_an_indented_option_brings_its_parent_key() -> None:
    lines = CONF.split("\n")
    assert window(lines, 2, count, 100) == (0, 3)


def test_a_key_brings_the_comment_under_it_and_the_list_that_comment_opens() -> None:
    lines = ["JobCompType=jobcomp/mysql", "# one of:", "    # None: nothing", "    # MySQL: a database", "", "Next=1"]
    assert window(lines, 0, count, 100) == (0, 4)


def test_a_small_fenced_block_is_taken_whole() -> None:
    lines = ["run three jobs on one node:", "```shell", "#SBATCH -N 1", "#SBATCH --mem 2000", "```", "after"]
    assert window(lines, 3, count, 100) == (1, 5)
    assert window(lines, 3, count, 3) == (3, 4)  # too big for the cap: the line alone


def test_a_lone_line_brings_its_short_neighbours() -> None:
    lines = ["count lines of code", "git ls-files | xargs wc -l", "", "other"]
    assert window(lines, 0, count, 100) == (0, 2)
    assert window(lines, 1, count, 100) == (0, 2)


def test_a_short_title_brings_the_long_line_under_it() -> None:
    """``15. gang plugin`` is a title; what gang scheduling is comes on the line under it, however long."""
    explanation = "All or nothing: " + "schedule the pods of a job only when its minimum can run " * 6
    lines = ["priorityClassName", "15. gang plugin", explanation, "16. drf plugin"]
    assert window(lines, 1, count, 100) == (0, 3)  # and the short line above, as before
    command = "kubectl logs my-pod --previous --tail 100 --timestamps --since 1h"  # no title: 10 words
    assert window([command, explanation], 0, count, 100) == (0, 1)  # a long neighbour stays out
    assert window(lines, 1, count, 20) == (0, 2)  # a title's long line must still fit the cap


def test_window_respects_its_cap() -> None:
    lines = ["key: " + "word " * 10, "    child " * 3, "    child two"]
    a, b = window(lines, 0, count, 12)
    assert (a, b) == (0, 1)


def test_select_takes_the_best_lines_of_every_passage_as_exact_ranges() -> None:
    p1 = scored(10, "intro\n\nip addr show dev eth0\n\nnoise line here", [0.2, 0.0, 1.5, 0.0, 0.1])
    p2 = scored(50, "sar -u cpu\n\nsar -n DEV traffic", [0.3, 0.0, 1.2], heading="sar")
    ev = select([p1, p2], count, budget=100)
    assert [(e.start_line, e.end_line) for e in ev] == [(12, 12), (52, 52)]
    assert ev[0].text == "ip addr show dev eth0" and ev[1].text == "sar -n DEV traffic"
    assert [e.n for e in ev] == [1, 2] and ev[1].heading == "sar"


def test_select_skips_weak_anchors_and_stays_within_budget() -> None:
    text = "best line\n" + "\n".join(f"filler {i}" for i in range(30)) + "\nz\nz\nz\nweak line"
    p = scored(1, text, [2.0] + [1.5] * 30 + [0.0, 0.0, 0.0, 0.5])
    ev = select([p], count, budget=12)
    assert sum(count(e.text) + count(e.heading) + 4 for e in ev) <= 12
    assert all("weak" not in e.text for e in ev)
    assert ev[0].text.startswith("best line")


def test_a_near_tied_runner_up_comes_before_the_best_lines_neighbours() -> None:
    """Two lines score almost alike (2.34, 2.32): either may be the answer, so both go in, even when
    the best line's neighbours would have filled the budget (the curl POST lines before the PUT)."""
    text = "# curl\ncurl get one two three\nsome note about the post request\ncurl post five six\n\ncurl put seven eight nine ten"
    p = scored(7, text, [0.0, 0.9, 0.9, 2.34, 0.0, 2.32])
    ev = select([p], count, budget=20)
    lines = {n for e in ev for n in range(e.start_line, e.end_line + 1)}
    assert {10, 12} <= lines
    assert sum(count(e.text) + count(e.heading) + 4 for e in ev) <= 20
    far = select([scored(7, text, [0.0, 0.9, 0.9, 2.34, 0.0, 1.5])], count, budget=20)  # not a near-tie
    assert [(e.start_line, e.end_line) for e in far] == [(9, 10)]  # the best line with the note above it


def test_nearby_windows_are_joined_into_one_contiguous_range() -> None:
    p = scored(100, "a x\nb\nc x", [1.0, 0.0, 0.9])
    ev = select([p], count, budget=100)
    assert [(e.start_line, e.end_line, e.text) for e in ev] == [(100, 102, "a x\nb\nc x")]


def test_one_enormous_line_is_shortened_in_the_prompt_but_cited_whole() -> None:
    p = scored(7, "word " * 500, [1.0])
    ev = select([p], count, budget=50)
    assert ev[0].start_line == ev[0].end_line == 7 and count(ev[0].text) <= 52


def test_no_scored_line_means_no_evidence() -> None:
    assert select([scored(1, "a\nb", [0.0, 0.0])], count, budget=100) == []


def test_lexical_counts_a_concept_once_and_prefers_short_lines() -> None:
    assert _distinct({"网络", "接口", "网络接口", "sar"}) == {"网络接口", "sar"}
    weights = {"sar": 2.0, "dev": 1.0}
    none = frozenset[str]()
    s = _lexical([frozenset({"sar", "dev"}), frozenset({"sar", "dev"}), none], [none] * 3, [2, 32, 1], weights)
    assert s[0] == 1.0 and 0 < s[1] < s[0] and s[2] == 0


def test_a_heading_line_that_the_heading_path_shows_is_never_an_anchor(use_embedder: Any) -> None:
    text = "### kubernetes volume\n1. volume 支持多种后端：emptyDir、hostPath、NFS"
    corpus = Corpus({}, {}, LexicalIndex.build([("c0", text)]), text.lower())
    passage = Passage("notes.md", "kubernetes k8s > kubernetes volume", 10, 11, text, 0.0)
    [sp] = LineScorer(use_embedder, lambda: corpus).score("kubernetes volume backends", [passage])
    assert sp.scores[0] == 0.0 and sp.scores[1] > 0.5


def test_a_word_typed_in_capitals_is_matched_as_a_value(use_embedder: Any) -> None:
    text = "State=UP # 状态，是否启用\n# DRAIN # 节点不能分配给作业\n# FUTURE # 节点为了将来使用，启动时设置为不存在"
    corpus = Corpus({}, {}, LexicalIndex.build([("c0", text)]), text.lower())
    passage = Passage("notes.md", "slurm > slurm.conf", 1, 3, text, 0.0)
    [sp] = LineScorer(use_embedder, lambda: corpus).score("slurm 的 FUTURE node state 是干嘛用的", [passage])
    assert max(range(3), key=lambda i: sp.scores[i]) == 2


def test_a_line_matches_the_terms_its_heading_path_names(use_embedder: Any) -> None:
    ldap, slurm, other = "2. 重启服务\nsystemctl restart slapd", "6. 重启服务\nsystemctl restart slurmd", "ldap 目录\ngit push"
    corpus = Corpus({}, {}, LexicalIndex.build([("c0", ldap), ("c1", slurm), ("c2", other)]), (ldap + slurm + other).lower())
    passages = [Passage("notes.md", "slurm", 30, 31, slurm, 0.0), Passage("notes.md", "ldap > ldap使用", 10, 11, ldap, 0.0)]
    scored = LineScorer(use_embedder, lambda: corpus).score("how do I restart the ldap service?", passages)
    best = max((s, sp.passage.start_line + i) for sp in scored for i, s in enumerate(sp.scores))
    assert best[1] == 11  # the restart line of the ldap section, though the slurm one is retrieved first


def test_a_strong_runner_up_goes_in_alone_when_its_context_does_not_fit() -> None:
    """The runner-up scores 80 % of the best line: it may be the answer (the question paraphrases
    it). After the best line and its neighbours, it goes in as a bare line, since the block it
    opens does not fit the budget; a weaker one (60 %) only ever comes with its context."""
    best = scored(1, "x\nbest line here\ny", [0.0, 2.0, 0.0], "best")
    block = "Key: queue must be open\n    one two three four\n    five six seven eight"
    ev = select([best, scored(50, block, [1.6, 0.0, 0.0], "queue")], count, budget=20)
    assert [(e.start_line, e.end_line) for e in ev] == [(1, 3), (50, 50)]
    weak = select([best, scored(50, block, [1.2, 0.0, 0.0], "queue")], count, budget=20)
    assert [(e.start_line, e.end_line) for e in weak] == [(1, 3)]


def test_the_best_line_keeps_its_option_list_before_runner_ups_go_in() -> None:
    """The best line opens a list (a config key and its values): the list comes first, whole;
    runner-ups only take what budget is left."""
    block = "Key: a b c\n    one two three four\n    five six seven eight\n    nine ten eleven twelve"
    other = scored(50, "x\nqueue must be open\ny", [0.0, 1.6, 0.0], "queue")
    ev = select([scored(1, block, [2.0, 0.0, 0.0, 0.0], "conf"), other], count, budget=24)
    assert [(e.start_line, e.end_line) for e in ev] == [(1, 4)]
