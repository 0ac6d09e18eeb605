"""Word lists behind the term lookups (``terms``): words that never name an operation, in English
and Chinese, the particles and prefixes of hyphenated prose, and the endings of inflected words."""

from __future__ import annotations

from index.lexical import STOP_EN

# Words about the form of an answer, not the operation asked for ("which option", "the command").
FORM = frozenset("option options command commands flag flags syntax example examples way parameter argument line cli".split())
# Words of time, degree and number: they say when or how much, never which operation ("right now").
FUNCTION = frozenset(
    "now right currently already still yet again just only also even really very too much many more most less "
    "some something anything nothing everything one two three four five first second third other another same own".split()
)
NOT_OPERATIONS = STOP_EN | FORM | FUNCTION
# The same in Chinese: how a question asks, when and how much, not which operation.
NOT_OPERATIONS_ZH = frozenset(
    "为什么 是否 能否 能不能 需要 应该 可能 已经 还是 或者 以及 然后 的话 这些 那些 我们 自己 现在 当前 目前 之后 以后 "
    "之前 以前 不想 想要 如果 怎么办 一次 一台 某个 某一 一些 所有 每个 两个 区别 作用 意思 命令 参数 选项 方法 写法 "
    "例子 语法 步骤 办法 方式 默认 多长 多大 多少 多久".split()
)
PARTICLES = frozenset("to in on of up by off out non pre sub the and per via multi cross self semi inter".split())
INFLECTIONS = (("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ation", "ate"), ("ation", "e"))  # -> stem
