"""Raw-reply classification: the sentinel, echoes of the question or the prompt, and loops."""

from __future__ import annotations

from assistant.replies import echoes, looping, may_be_sentinel, prompt_echo, restart

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


HEADERS = ["[1] 内存 > Linux操作系统的缓存 > 缓存污染", "[2] kubernetes k8s > kubernetes volume"]


def test_a_reply_that_writes_out_its_prompt_is_cut_where_the_copy_starts() -> None:
    assert prompt_echo("<notes>\n[1] terraform > 通过terraform编排openstack\n", HEADERS) == 0
    answer = "`kubectl get pv` [2] 列出持久卷。\n"
    assert prompt_echo(answer + "[1] 内存 > Linux操作系统的缓存 > 缓存污染\n### 缓存污染\n", HEADERS) == len(answer)
    assert prompt_echo("内存 > Linux操作系统的缓存 > 缓存污染\n### 缓存污染\n", HEADERS) == 0  # the heading path alone
    asked = "为什么会把热点数据挤掉 "  # the question again, then an answer of its own
    assert prompt_echo(answer + asked + "Answer: 当数据", HEADERS) == len(answer + asked)


def test_ordinary_answers_are_no_prompt_echo() -> None:
    assert prompt_echo("`kubectl get pv` [2] 列出持久卷。\n", HEADERS) is None
    assert prompt_echo("The answer: `free -h` [1] shows it.\n", HEADERS) is None  # lower case, no markup
    assert prompt_echo("See [1] 内存 > Linux操作系统的缓存 > 缓存污染 for more\n", HEADERS) is None  # inside a sentence
    assert prompt_echo("[1] 内存 > Linux操作系统的缓存 > 缓存", HEADERS) is None  # a line still growing
