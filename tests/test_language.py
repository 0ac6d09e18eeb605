"""Which language a question is in: the answer comes back in it, and a third language's everyday
words are never taken for tools the notes lack."""

from __future__ import annotations

import pytest

from assistant.language import detect_language, is_foreign_word


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("kubectl 怎么看 pod 的日志", "zh"),
        ("slurm 的 SchedulerType 选 sched/backfill 有啥 difference", "zh"),  # mixed: answered in Chinese
        ("how do I view the logs of a pod?", "en"),
        ("what does the drf plugin do in volcano?", "en"),
        ("comment out the line in nginx.conf", "en"),  # "comment" is English too
        ("Comment voir les logs d'un pod ?", "other"),
        ("Wie kann ich die Logs eines Pods anzeigen?", "other"),
        ("¿Cómo veo los logs de un pod?", "other"),
        ("Come posso vedere i log di un pod?", "other"),
        ("Hoe kan ik de logs van een pod bekijken?", "other"),
        ("Como vejo os logs de um pod?", "other"),
        ("Как посмотреть все контейнеры crictl ps?", "other"),
        ("ポッドのログを見るには？", "other"),
    ],
)
def test_the_language_of_a_question(question: str, lang: str) -> None:
    assert detect_language(question) == lang


def test_a_foreign_word_is_one_language_s_own_not_a_name_used_everywhere() -> None:
    assert all(is_foreign_word(w) for w in ["anzeigen", "configurer", "veo", "bekijken", "vedere"])
    assert not any(is_foreign_word(w) for w in ["istio", "kafka", "kubectl", "logs", "pod", "show"])
