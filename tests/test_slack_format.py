"""Markdown -> Slack mrkdwn, Block Kit rendering and splitting within Slack's limits."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.slack.format import (
    FENCE,
    MAX_BLOCKS,
    SECTION_CHARS,
    plain_message,
    render_answer,
    split_mrkdwn,
    strip_mentions,
    to_mrkdwn,
)
from assistant.types import Answer, Citation, Passage
from tests.fake_slack_api import cite, long_text


def test_inline_markdown_becomes_mrkdwn() -> None:
    md = "**bold** and *italic* and ~~gone~~, [docs](https://example.com/a?b=1&c=2) and `a*b*c` 2 * 3 * 4"
    assert to_mrkdwn(md) == "*bold* and _italic_ and ~gone~, <https://example.com/a?b=1&amp;c=2|docs> and `a*b*c` 2 * 3 * 4"


def test_headings_lists_and_quotes() -> None:
    md = "## Restart **kube-apiserver** ##\n- one\n  * two\n1. three\n> quoted <b>"
    assert to_mrkdwn(md) == "*Restart kube-apiserver*\n• one\n  • two\n1. three\n> quoted &lt;b&gt;"


def test_code_blocks_are_kept_verbatim_and_escaped() -> None:
    md = "Run:\n```bash\nkubectl get pods **not bold** | grep -v <none> && echo ```\n```\nafter *x*"
    out = to_mrkdwn(md)
    assert out == "Run:\n```\nkubectl get pods **not bold** | grep -v &lt;none&gt; &amp;&amp; echo `\u200b``\n```\nafter _x_"


def test_tilde_and_unclosed_fences() -> None:
    assert to_mrkdwn("~~~~\nx ``` y\n~~~\nstill code\n~~~~\nz") == "```\nx `\u200b`` y\n~~~\nstill code\n```\nz"
    assert to_mrkdwn("```\nnever closed").endswith("never closed\n```")


def test_mentions_and_broadcasts_are_stripped() -> None:
    text = "<!channel> hi <@U123> and <@W9|bob> <!here|here> <!everyone> <!subteam^S0614TZR7|@ops> ok"
    assert strip_mentions(text) == "hi and ok"
    assert strip_mentions("keep  two spaces <@U1>\n    indented") == "keep  two spaces\n    indented"
    out = to_mrkdwn("<!channel> hi <@U123> `<!here>` <#C1> <https://x|y>")
    assert out == "hi `` &lt;#C1&gt; &lt;https://x|y&gt;"
    assert "<" not in out.replace("&lt;", "")


def test_split_keeps_code_blocks_closed() -> None:
    code = "\n".join(f"line {i} of the script" for i in range(400))
    pieces = split_mrkdwn(to_mrkdwn(f"intro\n```sh\n{code}\n```\noutro"))
    assert len(pieces) >= 3
    for p in pieces:
        assert len(p) <= SECTION_CHARS and p.count(FENCE) % 2 == 0
    assert pieces[1].startswith(FENCE + "\n") and pieces[-1].endswith("outro")
    body = [ln for p in pieces for ln in p.split("\n") if ln.startswith("line ")]
    assert body == [f"line {i} of the script" for i in range(400)]


def test_split_cuts_a_huge_line_without_breaking_entities() -> None:
    pieces = split_mrkdwn(to_mrkdwn("&" * 5000 + " tail"), limit=1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert all(re.fullmatch(r"(&amp;)*( tail)?", p.strip()) for p in pieces)
    assert "".join(pieces).count("&amp;") == 5000


markdown_lines = st.lists(
    st.one_of(
        st.just("```python"),
        st.just("```"),
        st.text(alphabet="ab <>&*_`#-~ ", max_size=60),
        st.text(alphabet="xyz ", min_size=100, max_size=400),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(markdown_lines, st.integers(min_value=40, max_value=400))
def test_split_property(lines: list[str], limit: int) -> None:
    text = to_mrkdwn("\n".join(lines))
    pieces = split_mrkdwn(text, limit)
    for p in pieces:
        assert len(p) <= limit
        assert p.count(FENCE) % 2 == text.count(FENCE) % 2 == 0

    def content(s: str) -> str:
        return re.sub(r"\s", "", s.replace(FENCE, ""))

    assert "".join(content(p) for p in pieces) == content(text)


def test_render_answer_with_citations_and_notices() -> None:
    answer = Answer("Use `systemctl restart kube-apiserver` [1].", [cite()], True, "q", "fake", notices=["fell back"])
    (msg,) = render_answer(answer)
    assert msg.text == "Use `systemctl restart kube-apiserver` [1]."
    section, refs, notes = msg.blocks
    assert section["type"] == "section" and section["text"]["verbatim"] is True
    assert refs["elements"][0]["text"] == "[1] `ops-notes.md:157-165` kubernetes &gt; kube-apiserver"
    assert notes["elements"][0]["text"] == "note: fell back"


def test_render_not_grounded_shows_nearest_sections() -> None:
    near = [Passage("a.md", "Setup > Proxy", 3, 9, "x", 0.2)]
    (msg,) = render_answer(Answer("Not in your notes.", [], False, "q", "fake", nearest=near))
    ctx = msg.blocks[-1]["elements"]
    assert [e["text"] for e in ctx] == ["Nearest sections:", "`a.md:3-9` Setup &gt; Proxy"]


def test_render_long_answer_is_split_into_messages() -> None:
    messages = render_answer(Answer(long_text(), [cite()], True, "q", "fake"))
    assert len(messages) >= 2
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS and len(m.text) <= 40_000 and len(json.dumps(m.blocks)) < 50_000
        assert all(len(b["text"]["text"]) <= SECTION_CHARS for b in m.blocks if b["type"] == "section")
    assert all(b["type"] == "section" for m in messages[:-1] for b in m.blocks)
    assert messages[-1].blocks[-1]["type"] == "context"


def test_many_citations_fit_one_context_block() -> None:
    cites = [Citation(i, "n.md", i, i + 1, f"h{i}", "t") for i in range(1, 15)]
    (msg,) = render_answer(Answer("x", cites, True, "q", "fake"))
    elements = msg.blocks[-1]["elements"]
    assert len(elements) == 10 and "`n.md:14-15`" in elements[-1]["text"]


def test_plain_message_escapes() -> None:
    msg = plain_message("QueryError: <script> & <!here>")
    assert msg.text == "QueryError: &lt;script&gt; &amp;" and msg.blocks[0]["text"]["text"] == msg.text
