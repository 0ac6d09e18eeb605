"""Credential detection: generic rules, random values (never a special-cased secret)."""

from __future__ import annotations

import random
import string

import pytest

from assistant.secrets import REDACTED, Redactor

R = Redactor()


def rand_secret(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(12)) + "@9"


TEMPLATES = [
    "curl http://h/login -X POST -d 'username=bob&password={v}'",
    """curl -k https://h/tokens -d '{{"userName": "ops", "password": "{v}"}}'""",
    "kubectl create secret generic s --from-literal=username=admin --from-literal=password={v}",
    "    auth_pass {v}  # 与主服务器相同",
    " JobCompPass={v} # 数据库密码",
    " AccountingStoragePass={v}",
    '  password  = "{v}"',
    "export API_KEY={v}",
    "ldapsearch -x -D cn=Manager,dc=x,dc=com -w {v} -b dc=x",
    "mysql -uroot -p{v} mydb",
    "sshpass -p {v} ssh host",
    "curl -u alice:{v} https://h",
    "git clone https://alice:{v}@example.com/repo.git",
    "Authorization: Bearer {v}",
    "Authorization: Basic {v}",
    "echo {v} > ./password",
    "db_token: {v}",
]


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("seed", [1, 2])
def test_credentials_are_redacted(template: str, seed: int) -> None:
    value = rand_secret(seed)
    line = template.format(v=value)
    out = R.redact(line)
    assert value not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "line",
    [
        "proxy_pass http://backend.example.com/socket;",
        'curl -H "X-ACCESS-TOKEN:$token" https://h',
        "git cherry-pick 5e882fedd834c4e2a4c8d41a69d565324f98c56a",
        "设置用户密码---passwd dx",
        "AuthAltParameters=jwt_key=/var/spool/slurm/statesave/jwt_hs256.key",
        "scontrol token username=root lifespan=5000",
        "router/e4bffe3a-24cb-4257-aab6-48cd95499aeb",
        "pass the user and password with basic authentication (curl -u)",
        "Bearer authentication sends a token in a header",
    ],
)
def test_references_and_ids_are_not_secrets(line: str) -> None:
    assert R.redact(line) == line


@pytest.mark.parametrize("template", TEMPLATES)
def test_redacting_is_idempotent(template: str) -> None:
    """The answer guard redacts the model's answer, which quotes lines already redacted: a value
    that is the placeholder stays as it is ("password=[redacted]", not "password=[redacted]]")."""
    once = R.redact(template.format(v=rand_secret(3)))
    assert R.redact(once) == once
    assert "[redacted]]" not in R.redact(f"`{once}` [1]")


def test_high_entropy_token_and_private_key() -> None:
    token = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpL"
    assert token not in R.redact(f"token is {token} here")
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nxyz\n-----END RSA PRIVATE KEY-----"
    assert "MIIEow" not in R.redact(block)


def test_a_found_value_is_hidden_everywhere_in_the_text() -> None:
    text = "ldapsearch -D cn=Manager -w s3cretpw -b dc=x\n-w s3cretpw的密码"
    assert "s3cretpw" not in R.redact(text)


def test_only_the_value_goes_the_key_stays() -> None:
    assert R.redact("--from-literal=password=hunter22") == "--from-literal=password=[redacted]"


def test_bundled_notes_known_credential_lines() -> None:
    from pathlib import Path

    lines = (Path(__file__).resolve().parent.parent / "notes" / "ops-notes.md").read_text(encoding="utf-8").split("\n")
    redacted = {n for n, line in enumerate(lines, 1) if R.redact(line) != line}
    # curl -d form and JSON, --from-literal, env file, auth_pass, ldap -w, *Pass=, terraform password
    assert {9, 10, 280, 288, 453, 481, 894, 913, 1011} <= redacted
    assert not {71, 79, 12, 34, 139} & redacted  # proxy_pass, $token, cherry-pick, passwd command
