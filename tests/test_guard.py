"""The output guard's streaming hold-back: nothing that may still grow into a secret is shown."""

from __future__ import annotations

from assistant.guard import OutputGuard
from assistant.secrets import Redactor

GUARD = OutputGuard(Redactor())


def test_chinese_text_streams_without_waiting_for_a_space() -> None:
    assert GUARD.streamable("在配置里用", ()) == "在配置里用"
    assert GUARD.streamable("先运行 `kubectl get", ()) == "先运行 `kubectl "


def test_a_value_being_typed_is_held_back_until_it_ends() -> None:
    secret = "Qz8vLm2pWx"
    shown = [GUARD.streamable("密码是 " + secret[:k], (secret,)) for k in range(1, len(secret) + 1)]
    assert all("Qz8" not in s for s in shown)
    assert GUARD.streamable(f"密码是 {secret}。", (secret,)) == "密码是 [redacted]。"


def test_streamed_prefixes_only_grow() -> None:
    text = "用 `requirepass` 设置密码 [1]，然后重启 redis。"
    shown = [GUARD.streamable(text[:k], ()) for k in range(len(text) + 1)]
    assert all(b.startswith(a) for a, b in zip(shown, shown[1:], strict=False))
    assert shown[-1] == text


def test_a_quote_or_bracket_ends_a_word_so_a_command_starts_showing_at_once() -> None:
    assert GUARD.streamable("`kubectl", ()) == "`"
    assert GUARD.streamable("`ssl_cacert.pem` [1", ()) == "`ssl_cacert.pem` ["


def test_a_value_after_a_quote_is_still_held_until_it_ends() -> None:
    partial = GUARD.streamable('curl -d \'{"password":"s3cr', ())
    assert "s3cr" not in partial and partial.endswith('"password":"')
    assert "s3cr3tPw" not in GUARD.streamable('curl -d \'{"password":"s3cr3tPw"}\' ', ())


def test_text_that_starts_to_spell_a_known_secret_is_held_even_after_a_bracket() -> None:
    secret = "ab(cd)ef9"
    shown = [GUARD.streamable("值是 " + secret[:k], (secret,)) for k in range(1, len(secret) + 1)]
    assert all("ab" not in s for s in shown)


def test_an_answer_quoting_a_redacted_line_shows_it_as_the_notes_do() -> None:
    """The model copies ``JobCompPass=[redacted]`` from its passages; the guard must not read
    ``[redacted`` as a new value and show ``[redacted]]`` (answers quoting a credential line did)."""
    for answer in ["`JobCompPass=[redacted]` [1]", "`curl -d 'username=bob&password=[redacted]' -H \"\"` [1]"]:
        assert GUARD.clean(answer, ()) == answer
        assert GUARD.streamable(answer + " ", ()) == answer + " "
