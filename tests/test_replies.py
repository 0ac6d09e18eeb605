"""Raw-reply classification: the sentinel, echoes of the question, and loops."""

from __future__ import annotations

from assistant.replies import echoes, looping, may_be_sentinel, restart

BLOCK = (
    "`srun --mpi=list` [1] 列出已安装的MPI插件；\n"
    "`scontrol show jobs` [1] 查看MPI作业详细信息；\n"
    "`scontrol show node` [1] 查看所有节点详细信息。\n\n"
)


def test_a_short_piece_repeated_to_the_end_is_a_loop() -> None:
    assert looping("`pdcp -R -p -l 1" + "0" * 40)
    assert not looping("`pdcp -R -p -l 1" + "0" * 20)


def test_an_answer_started_over_is_cut_after_its_first_copy() -> None:
    assert restart(BLOCK + BLOCK + "`srun") == len(BLOCK)
    assert restart(BLOCK + BLOCK[:30]) is None  # the second copy is not complete yet
    assert restart(BLOCK) is None


def test_ordinary_answers_with_similar_or_short_repeated_lines_are_not_restarts_or_loops() -> None:
    steps = "".join(f"{i}. `kubectl get pods -n ns{i}` [1]\n" for i in range(1, 8))
    assert not looping(steps) and restart(steps) is None
    assert restart("```\n}\n}\n}\n}\n```\n") is None  # repeated lines too short to be an answer
    twice = "`kubectl get pods` [1]\n`kubectl get pods` [1]\n"  # one line twice is not a restart
    assert restart(twice) is None


def test_sentinel_and_echo() -> None:
    assert may_be_sentinel("NOT_IN") and not may_be_sentinel("NOT_IN_NOTES, but")
    assert echoes("git 查看代码行数？", "git 查看代码行数") and not echoes("`git ls-files | xargs wc -l` [1]", "git 查看代码行数")
