"""Citation checking: invalid markers dropped, renumbered, commands verified verbatim."""

from __future__ import annotations

from assistant.citations import check
from assistant.packing import Evidence

EV = [
    Evidence(1, "a.md", "git", 10, 12, "git ls-files | xargs wc -l\ngit remote prune origin"),
    Evidence(2, "a.md", "k8s > CLI", 40, 41, "kubectl get all -n <ns>\ncrictl ps -a    # 查看"),
]
LABEL = "(not verbatim from your notes)"


def test_invalid_markers_are_dropped_and_the_rest_renumbered() -> None:
    c = check("Use `crictl ps -a` [2] or see [7]; also [2, 1].", EV, LABEL)
    assert "[7]" not in c.text
    assert c.text.startswith("Use `crictl ps -a` [1]")
    assert "[1][2]" in c.text
    assert [x.ref for x in c.citations] == ["a.md:40-41", "a.md:10-12"]
    assert c.citations[0].heading == "k8s > CLI"


def test_commands_not_in_the_notes_are_flagged() -> None:
    c = check("Run `git ls-files | xargs wc -l` [1], then `git gc --aggressive` [1].", EV, LABEL)
    assert "`git ls-files | xargs wc -l` [1]" in c.text
    assert f"`git gc --aggressive` {LABEL}" in c.text
    assert (c.code_spans, c.unsupported_spans) == (2, 1)


def test_code_block_checked_line_by_line() -> None:
    ok = check("```\ngit remote prune origin\n```\n[1]", EV, LABEL)
    bad = check("```\ngit remote prune origin\nrm -rf /\n```\n[1]", EV, LABEL)
    assert LABEL not in ok.text and LABEL in bad.text


def test_no_markers_means_no_citations() -> None:
    assert check("nothing cited here", EV, LABEL).citations == []


def test_a_marker_is_repointed_to_the_passage_that_holds_the_command() -> None:
    from assistant.citations import repoint

    ev = [
        Evidence(1, "n.md", "slurm", 10, 11, "srun -N 2 hostname"),
        Evidence(2, "n.md", "zip", 20, 20, "unzip html.zip -d /home/"),
    ]
    assert repoint("Use `unzip html.zip -d /home/` [1].", ev) == "Use `unzip html.zip -d /home/` [2]."
    assert repoint("`srun -N 2 hostname` [1] and `unzip html.zip -d /home/` [1]", ev) == (
        "`srun -N 2 hostname` [1] and `unzip html.zip -d /home/` [2]"
    )
    # right already, or nothing verbatim to go by: unchanged
    assert repoint("`srun -N 2 hostname` [1]", ev) == "`srun -N 2 hostname` [1]"
    assert repoint("runs jobs [2]; `rm -rf /` [1]", ev) == "runs jobs [2]; `rm -rf /` [1]"
    assert repoint("`unzip html.zip -d /home/` and `srun -N 2 hostname` [1]", ev).endswith("[1][2]")
