"""Follow-up condensation: an LLM rewrite is used only when it is a rewrite, not an answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from assistant.condense import Condenser, usable
from assistant.prompts import Prompts
from assistant.types import ChatMessage, LLMError, Turn

HISTORY = [
    Turn("user", "slurm.conf 里 MinJobAge=300 是什么意思"),
    Turn("assistant", "`MinJobAge=300`：清理作业记录前等待的秒数 [1]"),
]


class Reply:
    name = "reply"

    def __init__(self, text: str = "", fail: bool = False) -> None:
        self.text, self.fail = text, fail
        self.prompts: list[str] = []

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float) -> Iterator[str]:
        self.prompts.append(messages[-1].content)
        if self.fail:
            raise LLMError("down")
        yield self.text


def test_a_real_rewrite_is_used() -> None:
    llm = Reply("slurm.conf 里 KillWait=30 是什么意思")
    assert Condenser(llm, Prompts.load(), 5.0).standalone("那 KillWait=30 呢", HISTORY) == "slurm.conf 里 KillWait=30 是什么意思"
    # earlier answers reach the prompt without their citation markers
    assert "秒数" in llm.prompts[0] and "秒数 [1]" not in llm.prompts[0] and "MinJobAge=300" in llm.prompts[0]


def test_an_answer_instead_of_a_rewrite_falls_back_to_the_cheap_condensation() -> None:
    cheap = "slurm.conf 里 MinJobAge=300 是什么意思 那 KillWait=30 呢"
    for reply in ["`KillWait=30` 表示等待 30 秒 [1]", "等待 30 秒后发送 SIGKILL。", ""]:
        assert Condenser(Reply(reply), Prompts.load(), 5.0).standalone("那 KillWait=30 呢", HISTORY) == cheap
    assert Condenser(Reply(fail=True), Prompts.load(), 5.0).standalone("那 KillWait=30 呢", HISTORY) == cheap
    assert Condenser(None, Prompts.load(), 5.0).standalone("那 KillWait=30 呢", HISTORY) == cheap


def test_usable_keeps_identifiers_and_shares_a_word() -> None:
    assert usable("how do I delete a pod with kubectl?", "and delete one?")
    assert not usable("ip addr del 10.50.114.157/32 dev eth0", "用完了怎么把它删掉")
    assert not usable("what does MinJobAge mean?", "and KillWait=30?")
    assert not usable("x" * 400, "and then?")
    # a flag must stay as typed: sbatch's -n (tasks) is not -N (nodes)
    assert not usable("in an sbatch script, what does -N mean?", "and -n? is that also nodes?")
    assert usable("in an sbatch script, what does -n mean?", "and -n? is that also nodes?")
    assert usable("what does the --partition option do in sbatch?", "and --partition?")


def test_identifiers_are_keys_paths_and_flags_not_ordinary_words() -> None:
    from assistant.terms import identifiers

    q = "slurm.conf 里 JobCompType、SchedulerType=sched/hold 和 KillWait=30 的 CPU node FUTURE 是什么"
    assert identifiers(q) == ["slurm.conf", "JobCompType", "SchedulerType=sched/hold", "KillWait=30"]
