"""Citation checking: invalid markers dropped, renumbered, commands verified verbatim."""

from __future__ import annotations

from assistant.citations import attribute, check
from assistant.packing import Evidence

EV = [
    Evidence(1, "a.md", "git", 10, 12, "git ls-files | xargs wc -l\ngit remote prune origin"),
    Evidence(2, "a.md", "k8s > CLI", 40, 41, "kubectl get all -n <ns>\ncrictl ps -a    # 查看"),
]
LABEL = "(not verbatim from your notes)"


def E(n: int, text: str) -> Evidence:
    return Evidence(n, "a.md", "h", 1, text.count("\n") + 1, text)


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


def test_a_quote_of_part_of_a_line_is_widened_to_the_whole_line() -> None:
    ev = [E(1, "systemctl daemon-reload && systemctl restart slurmrestd\nsystemctl status slurmrestd")]
    checked = check("`systemctl restart slurmrestd` [1] restarts it.", ev, "(x)")
    assert checked.text.startswith("`systemctl daemon-reload && systemctl restart slurmrestd` [1]")
    assert checked.unsupported_spans == 0


def test_a_quote_found_in_several_lines_or_a_long_line_stays_as_written() -> None:
    ev = [E(1, "kubectl get pods\nkubectl get svc\n" + "Key=" + "v," * 100)]
    assert check("`kubectl get` [1]", ev, "(x)").text == "`kubectl get` [1]"
    assert check("`Key=v,v` [1]", ev, "(x)").text == "`Key=v,v` [1]"


def test_a_widened_quote_leaves_out_the_comment_after_the_command() -> None:
    ev = [E(1, "zip -q -r html.zip /home/html    # 打包为html.zip")]
    assert check("`zip -q -r html.zip` [1]", ev, "(x)").text == "`zip -q -r html.zip /home/html` [1]"


def test_a_quote_inside_prose_is_not_widened_to_the_prose() -> None:
    ev = [E(1, "2. 重启systemctl restart kube-apiserver.service;")]
    assert check("`systemctl restart kube-apiserver` [1]", ev, "(x)").text == "`systemctl restart kube-apiserver` [1]"


def test_a_garbled_quote_is_cited_to_the_passage_it_nearly_copies() -> None:
    line = """curl "http://localhost:9999/login" -X POST -d 'username=u&password=[redacted]'"""
    ev = [E(1, "Content-Type: text/html"), E(2, line)]
    garbled = line.replace("[redacted]'", "[redacted]]'")
    checked = check(f"`{garbled}` [1]", ev, "(x)")
    assert len(checked.citations) == 1 and checked.citations[0].text == line


def test_a_single_word_quote_such_as_a_path_is_never_widened() -> None:
    ev = [E(1, "zip -q -r html.zip /home/html")]
    assert check("打包 `/home/html` 目录 [1]", ev, "(x)").text == "打包 `/home/html` 目录 [1]"


def test_a_widened_quote_leaves_out_the_list_number_and_the_closing_punctuation() -> None:
    ev = [E(1, "11. kubectl exec -it <podName> <cmd>；")]
    assert check("`exec -it <podName>` [1]", ev, "(x)").text == "`kubectl exec -it <podName> <cmd>` [1]"


GIT_NGINX = [
    Evidence(1, "a.md", "git", 10, 11, "git fetch origin feature\ngit checkout -b feature"),
    Evidence(2, "a.md", "nginx", 20, 21, "nginx -s reload    # 重新加载配置\nnginx -s stop"),
]


def test_an_uncited_answer_is_cited_paragraph_by_paragraph() -> None:
    text = "Fetch the branch with git fetch origin:\n\n```sh\ngit fetch origin feature\n```\n\nThen nginx -s reload to reload."
    out = attribute(text, GIT_NGINX)
    assert out is not None
    # each part cites the passage it comes from; a marker never sits on a closing fence
    assert "git fetch origin feature\n```\n[1]" in out
    assert out.endswith("Then nginx -s reload to reload. [2]")
    assert [c.ref for c in check(out, GIT_NGINX, LABEL).citations] == ["a.md:10-11", "a.md:20-21"]


def test_paragraphs_from_the_same_passage_share_one_marker_at_their_end() -> None:
    out = attribute("Use git fetch origin first.\n\nThen git checkout -b feature.\n\nDone.", GIT_NGINX)
    assert out == "Use git fetch origin first.\n\nThen git checkout -b feature.\n\nDone. [1]"


def test_an_answer_sharing_no_word_with_the_passages_gets_no_citation() -> None:
    assert attribute("I cannot help with that.", GIT_NGINX) is None
    assert attribute("just nginx", GIT_NGINX) == "just nginx [2]"  # one word: the whole answer


def test_a_command_with_a_redacted_value_is_checked_around_the_value() -> None:
    """[redacted] in an answer stands for any one word of the passage; the rest must be verbatim."""
    ev = [E(1, "curl -X POST -d 'username=u&password=[redacted]' http://h/login"), E(2, "redis-cli -a Qz8vLm2pWx ping")]
    kept = check("`curl -X POST -d 'username=u&password=[redacted]' http://h/login` [1]", ev, "(x)")
    assert kept.unsupported_spans == 0 and kept.code_spans == 1
    assert check("`redis-cli -a [redacted] ping` [2]", ev, "(x)").unsupported_spans == 0
    invented = check('```\ncurl -u admin:[redacted] "http://h/login"\n```\n[1]', ev, "(x)")
    assert invented.unsupported_spans == 1 and "(x)" in invented.text
