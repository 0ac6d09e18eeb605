"""The "not in your notes" gate's named-term evidence, on a small real lexical index."""

from __future__ import annotations

import unicodedata

import pytest

from assistant.grounding import GroundingGate
from assistant.retrieval import Candidate, Corpus
from assistant.search import clean_question
from assistant.terms import Lines, unasked_operations, unknown_terms, unmentioned_terms
from index.lexical import LexicalIndex
from index.models import Chunk

NOTES = """\
git push origin HEAD:feature/x
git fetch origin
git cherry-pick 5e882fe
kubectl get pods -o wide
kubectl describe pod web
kubectl delete pvc data
sudo yum-config-manager --add-repo https://rpm.releases.hashicorp.com/RHEL/hashicorp.repo
systemctl daemon-reload && systemctl restart slurmrestd
SchedulerType=sched/hold
tcpdump -n port 80
terraform init
ldapsearch -x -b dc=example
sacctmgr modify qos normal set MaxWall=3-00:00:00 OverTimeLimit=5 MaxTRES=gres/gpu=4
helm repo add bitnami https://charts.bitnami.com/bitnami
helm install web bitnami/nginx
TaskPlugin=task/affinity
配置文件 /etc/slurm/slurm.conf
查看 pod status 或者 pod events
curl -L https://example.com  # 跟随 redirect
CPU 高速缓存 L1Cache，L2Cache
"""


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    docs = [(f"c{i}", line) for i, line in enumerate(NOTES.splitlines())]
    return Corpus({}, {}, LexicalIndex.build(docs), NOTES.lower(), text=NOTES)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("git stash 之后怎么恢复", ["git stash"]),  # a subcommand the notes never run, however common the word
        ("how to use kubectl logs --previous", ["kubectl logs", "--previous"]),  # a flag, however common the word
        ("git bisect 怎么用", ["bisect"]),  # rare word: named once, not twice
        ("helm upgrade 到新版本", ["helm upgrade"]),
        ("kubectl 怎么给节点加 taint", ["taint"]),  # an English word in a Chinese question: a term chosen on purpose
        ("how do I port-forward a service with kubectl?", ["port-forward"]),  # a verb, not a modifier
        ("git 的 wall-clock 超时怎么设", ["wall-clock"]),
        (
            "which helm knob sets the repo?",
            [],
        ),  # what a config key is called, not a helm subcommand  # chosen on purpose in a Chinese question
        ("私有仓库用 Harbor 搭，怎么推镜像", ["Harbor"]),  # a capitalised name in Chinese, however common the word
        ("set the qos wallclock to 3 days", ["wallclock"]),  # one part of it is no identifier's part
        ("how do I list the iptables rules?", ["iptables"]),  # a plural-looking tool name: "iptable" is no word
        ("网页放到 /home/html 下面", ["home/html"]),  # a path of ordinary words, not alternatives
        ("how do I configure redis persistence?", ["redis"]),  # "redi" of "redirect" is no singular of it
        ("Comment configurer istio pour slurmrestd ?", ["istio"]),  # a third language: tools are still named
        ("Comment redémarrer traefik ?", ["traefik"]),  # no ASCII piece of "redémarrer" is a term ("marrer")
    ],
)
def test_terms_the_notes_never_use_are_named(corpus: Corpus, question: str, expected: list[str]) -> None:
    assert sorted(unknown_terms(question, corpus)) == sorted(expected)


@pytest.mark.parametrize(
    "question",
    [
        "what's the small on-chip cache that remembers virtual-to-physical translations?",  # hyphenated prose
        "node got marked down and re-registers later, why?",
        "what's the ldap server daemon/service called?",  # alternatives: one of them is in the notes
        "install terraform on centos/rhel",
        "git push to a remote branch",  # a subcommand the notes do run
        "set the long qos to a 7-day wall limit with sacctmgr",  # "-day" after a digit is no flag
        "what does SchedulerType=sched/hold do?",
        "how do I capture packets on port 80?",  # ordinary English words are never held against a question
        "limit qos normal to 3 days max walltime",  # MaxWall + OverTimeLimit: the notes' identifiers, joined
        "place the vm by an affinity/anti-affinity policy",  # alternatives may be hyphenated
        "how fast is the L1/L2/L3 cache that tcpdump uses?",  # one name numbered: L1Cache is in the notes
        "helm terminology: what are a chart and a release?",  # a title, not a helm subcommand
        "curl: send a PUT to an https endpoint",  # fairly rare, but prose in an English question
        "how often does a failing pod run again before giving up?",  # prose says "pod status", no command runs pod
        "one big scan evicts my cached pages, how does tcpdump help?",  # "evicts" is rare, "evict" is English
        "helm: where do the credentials/endpoint go?",  # ordinary words offered as alternatives
        "multi-node jobs with slurmrestd",  # a prefix, hyphenated
        "rarely-used pages and their invalidation in tcpdump",  # an adverb's compound; invalidate is English
        "a tcpdump example, e.g. on port 80 (i.e. http)",  # abbreviations
        "kill a job past a certain wall-clock length with tcpdump",  # ordinary words describing a noun
        "a root-owned script after each terraform run",  # a participle's compound: an adjective
        "which kubectl command shows the pods?",  # the form of an answer, not a kubectl subcommand
        "Explain 一下 git fetch 和 git push",  # an everyday word opening the sentence, not a name
        "用 harbor 这个词描述 git push",  # lowercase: an ordinary word, not a name
        "Terraform 怎么 init",  # a name the notes have
        "which pod events does kubectl describe show?",  # a plural mentioned by its singular
        "Wie kann ich die Pods mit kubectl anzeigen?",  # a third language's everyday words are not tools
        "¿Cómo veo los pods con kubectl?",
        "Comment redémarrer slurmrestd ?",
        "how long before kubectl marks a pod ready?",  # the tool as the subject of a verb, not a subcommand
    ],
)
def test_ordinary_wording_is_not_held_against_a_question(corpus: Corpus, question: str) -> None:
    assert unknown_terms(question, corpus) == []


@pytest.mark.parametrize(
    ("question", "lines", "expected"),
    [
        ("ldap 用户的密码怎么改", "用户及用户组\n设置用户密码---passwd dx", ["ldap"]),  # the notes have it elsewhere
        ("ldap 用户的密码怎么改", "ldap\nldapsearch -x -b dc=example", []),
        ("git bisect 怎么用", "git\ngit fetch origin", []),  # never in the notes: the gate's part, not this check's
        ("slurm.conf 里怎么设置", "slurm\nSchedulerType=sched/hold 写在 conf 里", []),  # each part of it is there
        ("slurm.conf 里配哪个", "slurm 安装\nDefMemPerCPU=0 # 默认内存", []),  # a config file: its tool is enough
        ("slurm.conf 里配哪个", "ldap\nldapsearch -x -b dc=example", ["slurm.conf"]),  # not the tool's lines
        ("limit qos normal to 4 gpus per user", "slurm qos\nMaxTRES=gres/gpu=4", []),  # a plural, by its singular
        ("install terraform on centos/rhel", "terraform\nterraform init", []),
    ],
)
def test_terms_the_notes_have_but_the_chosen_lines_lack(corpus: Corpus, question: str, lines: str, expected: list[str]) -> None:
    assert unmentioned_terms(question, Lines.of(lines), Lines.notes(corpus)) == expected


FIVE = ["uninstall", "release", "purge", "revision", "history"]
HELM = "helm repo add bitnami https://charts.bitnami.com/bitnami\nhelm install web bitnami/nginx"


@pytest.mark.parametrize(
    ("question", "shown", "expected"),
    [
        ("how do I uninstall a helm release?", HELM, ["uninstall", "release"]),  # helm runs there, uninstall never
        ("pdsh 跑命令时怎么 exclude 掉一台 host", "pdsh -w host1,host2 uptime", ["exclude"]),  # English words in Chinese
        ("how do I install a chart with helm?", HELM, []),  # the operation shown, and "chart" in a URL
        ("helm 怎么装 nginx", HELM, []),  # every English word is in the lines
        ("which option of helm adds a repo?", HELM, []),  # "option" is about the answer's form
        ("how do I uninstall nginx?", "curl -s http://localhost", []),  # names no command the lines run
        ("which repo does helm use right now?", HELM, []),  # when, not which operation
        ("how do I add two more repos to helm?", HELM, []),  # how many, not which operation
        ("helm: add every repo at once, for one particular chart", HELM, []),  # quantifiers, not operations
        ("which helm repo do I add together with bitnami, while installing?", HELM, []),  # conjunctions too
        ("sacctmgr 怎么删除一个用户", "sacctmgr add user dx account=test", ["删除"]),  # a Chinese word the lines lack
        ("sacctmgr 怎么添加一个用户", "sacctmgr add user dx account=test  # 添加用户", []),
        ("sacctmgr 添加用户的命令是什么", "sacctmgr add user dx account=test  # 添加用户", []),  # the form asked for
        ("helm 怎么装 nginx，有效期多长", HELM, ["有效期"]),  # the longest word, once
        ("kubectl 怎么把 namespace 都删掉", "kubectl delete namespace --all", []),  # 删掉: 删除 is delete
        ("kubernetes 的 pod restart 怎么配", "restartPolicy: Always", []),  # the heading "kubernetes k8s" runs nothing
        ("how do I uninstall a helm release and purge its revision history?", HELM, FIVE),
        # ... but a question that the lines lack seven words of is a paraphrase, not one missing operation
        ("how do I uninstall a helm release and purge its revision history, keeping secrets?", HELM, []),
        ("Come posso creare un pod con kubectl?", "kubectl get pods -o wide", []),  # a third language's words
    ],
)
def test_an_operation_the_lines_never_show_for_their_command(question: str, shown: str, expected: list[str]) -> None:
    assert unasked_operations(question, Lines.of(f"kubernetes k8s\n{shown}"), shown) == expected


def test_a_full_width_colon_before_an_english_word_keeps_separating_it(corpus: Corpus) -> None:
    typed = "多个 pod 共享一张 GPU：terraform 里怎么写，helm 呢"
    assert clean_question(typed) == "多个 pod 共享一张 GPU: terraform 里怎么写,helm 呢"  # "，" joins no term
    assert unknown_terms(clean_question(typed), corpus) == []
    assert unknown_terms(unicodedata.normalize("NFKC", typed), corpus) == ["GPU:terraform"]  # width alone joins them


def _far(dense: float, lexical: float) -> list[Candidate]:
    chunk = Chunk("n.md", "git", 1, 1, "git fetch origin", "git fetch origin", "h", "c")
    return [Candidate(chunk, 0.1, dense, lexical, 0, 0)]


@pytest.mark.parametrize(
    ("question", "grounded"),
    [
        ("can you recommend a good novel for the weekend?", False),  # far from every section, names nothing
        ("in a nutshell, what is kubectl?", True),  # far too, but it names a tool the notes use everywhere
    ],
)
def test_far_from_every_section_is_not_close_unless_it_names_a_known_term(corpus: Corpus, question: str, grounded: bool) -> None:
    result = GroundingGate(min_dense=0.22, min_lexical=3.0).check(question, _far(0.15, 1.0), corpus)
    assert result.grounded is grounded
    assert result.reason == ("" if grounded else "not_close")


def test_alternatives_are_words_or_one_name_numbered() -> None:
    from assistant.words import alternatives

    assert alternatives("daemon/service") == ["daemon", "service"]
    assert alternatives("L1/L2/L3") == ["L1", "L2", "L3"]
    assert alternatives("apps/v1") == [] and alternatives("L1/v2") == [] and alternatives("gres/gpu=4") == []
