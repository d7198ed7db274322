#!/usr/bin/env python3
"""Writes the committed seed corpora, fuzz/corpus/<target>/, from the repository's example
payloads and plugin manifests, the platforms' webhook documents (../shared/seeds/ beside the
repository, when present) and a few hand-written inputs per target.

Run from anywhere: `python3 fuzz/seeds.py`. Seeds are named by the digest of their content
(as libFuzzer names the inputs it adds), so a rerun rewrites the same files. Multi-field
targets take their fields separated by NUL bytes (see src/lib.rs, `Fields`).
"""

import hashlib
import ipaddress
import json
import pathlib
import re

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
CORPUS = FUZZ / "corpus"
# The platforms' documents, kept as received; not part of the repository.
DOCS = REPO.parent / "shared" / "seeds"
PLATFORM_DOCS = {
    "chatwoot": "000_b7af8c4a38cf230e.txt",
    "chat2desk": "001_1fd687415411bff2.txt",
    "whazing": "002_054463e2a622d16b.txt",
}


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def fields(*parts):
    return b"\0".join(p.encode() if isinstance(p, str) else p for p in parts)


def brace_blocks(text):
    """Every balanced {...} block of a document (outermost only)."""
    depth, start = 0, None
    for i, c in enumerate(text):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


def as_json(block):
    """A document's example as JSON: comments, markdown escapes and trailing commas removed."""
    text = re.sub(r"\s//[^\n]*", "", block)
    text = re.sub(r"\\([_\[\]])", r"\1", text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=1)
    except ValueError:
        return None


def webhook_seeds():
    for platform in PLATFORM_DOCS:
        for path in sorted((REPO / "examples" / "payloads" / platform).glob("*.json")):
            body = path.read_bytes()
            write(platform, body)
            write("ingest_parse", body)
    for platform, name in PLATFORM_DOCS.items():
        doc = DOCS / name
        if not doc.exists():
            continue
        for block in brace_blocks(doc.read_text(encoding="utf-8")):
            body = as_json(block)
            if body is not None:
                write(platform, body)
                write("ingest_parse", body)
            elif len(block) < 4096:
                # The documents' JavaScript and PHP-ish examples: nearly JSON, kept as they
                # are for the parse-everything target.
                write("ingest_parse", block)


def lenient_seeds():
    for value in [
        "", "null", "[]", "{}", "0", "1", "-1", "42.0", "1.5", "1e3", "-0",
        "9007199254740993", "-9223372036854775808", "18446744073709551615",
        '"42"', '" 42 "', '"4x"', '"true"', '"FALSE"', '"yes"', '"off"', '"maybe"',
        "true", "false", '"1564354900"', '"1564354900000"',
        '"2019-07-28T23:01:40Z"', '"2019- 07-28T23:01:40Z"', '"2019-07-28 23:01:40 UTC"',
        '"2020-03-03 13:05:57 UTC"', '"2024-02-29T12:00:00.123+03:00"',
        '"2019-07-28 23:01:40 +0300"', '"2019-07-28T23:01:40.5"', '"yesterday"',
        '{"field": "1"}', '{"field": {"a": 1}}', '[1, "2", null]', '{"a": 1, "b": [2]}',
    ]:
        write("lenient", value)


def manifest_seeds():
    for path in sorted(REPO.glob("plugins/**/plugin.toml")):
        write("manifest", path.read_bytes())
    write("manifest", 'name = "faq"\nwasm = "faq.wasm"\n')
    write(
        "manifest",
        'name = "a-b_1"\nwasm = "../../target/a.wasm"\nenabled = false\nweight = 0.5\n'
        'timeout_ms = 800\nmemory_mb = 32\ninstance = "reuse"\n'
        'capabilities = ["log", "kv", "http", "config"]\n'
        'allowed_hosts = ["api.example.com", "*.corp", "[::1]:8080"]\n'
        "allow_private_network = true\n\n[config]\nmodel = \"m\"\nt = 1979-05-27T07:32:00Z\n"
        "list = [1, 2.5, \"x\", {a = 1}]\n[config.nested]\nk = nan\n",
    )


def token_seeds():
    write("tokens", fields("token=abc", "s3cr3t", "a", "1", "Bearer s3cr3t"))
    write("tokens", fields("a=1&token=a%2Bb%3D+c", "a+b= c", "token", "x", "bearer  padded  "))
    write("tokens", fields("token=%zz%4&token=2", "tok en", "", "", "Basic dXNlcjpwYXNz"))
    write("tokens", fields("", "", "k", "v", "Bearer"))


def verify_seeds():
    body = (REPO / "examples/payloads/chatwoot/message_created.json").read_bytes()
    write("ingest_verify", fields("secret", "1700000000", "1700000010", "0", "sha256=00", "tok", "tok", body))
    write("ingest_verify", fields("", " 1700000000 ", "1700000301", "-301", "md5=1", "", "x", b"{}"))
    write("ingest_verify", fields("k", "-9223372036854775808", "1700000000", "9223372036854775807", "sha256=zz", "a", "b", b""))


def signature_seeds():
    body = b'{"type":"hint.served","data":{}}'
    write("outbound_signature", fields("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b"k" * 32, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body))
    write("outbound_signature", fields("whsec_!!", b"short", "", "-1", b""))
    write("outbound_signature", fields("whsec_" + "A" * 31 + "=", b"\xff" * 24, "id with spaces", "0", body))


def api_seeds():
    hints = [
        {"source": "chatwoot", "account": "default", "dialog_id": 42, "message_id": "m1", "max_hints": 3},
        {"source": "api", "dialog_id": " d ", "request_id": "r", "client_id": 7, "operator_id": "o",
         "channel_id": "c", "transport": "widget", "external_key": "k"},
        {"source": "whazing", "dialog_id": "", "max_hints": 21},
        {"source": "nope", "dialog_id": "1", "extra": True},
    ]
    choices = [
        {"source": "chat2desk", "message_id": "8205", "hint_id": 2, "client_id": "11910"},
        {"source": "api", "account": "acme", "message_id": 1, "hint_id": " 3 "},
        {"source": "api", "message_id": "m", "hint_id": 1.5},
    ]
    creates = [
        {"name": "crm", "url": "https://example.com/hook", "events": ["message.*", "hint.served"]},
        {"name": " x ", "url": "http://10.0.0.1:8080/a?b=c", "events": ["*"], "account": "acme"},
        {"name": "bad", "url": "ftp://user:pw@host/#frag", "events": []},
    ]
    updates = [{"url": None}, {"status": "active", "events": ["*"]}, {"name": "n", "url": "https://[::1]/"}]
    recovers = [{"since": "2026-01-01T00:00:00Z"}, {"since": 1767225600000}, {"since": True}]
    for selector, bodies in enumerate([hints, choices, creates, updates, recovers]):
        for body in bodies:
            write("api_v1_bodies", bytes([selector]) + json.dumps(body).encode())
    write("api_v1_bodies", b"\x00[1,2]")
    write("api_v1_bodies", b"\x02{\"name\": 1}")


def address_seeds():
    # First byte: 0 an IPv4 address follows, 1 an IPv6 address, 2 URL text.
    for v4 in [(127, 0, 0, 1), (169, 254, 169, 254), (10, 1, 2, 3), (8, 8, 8, 8), (0, 0, 0, 0), (255, 255, 255, 255)]:
        write("address_policy", bytes([0, *v4]))
    for v6 in ["::1", "fd00:ec2::254", "2002:7f00:1::1", "64:ff9b::a00:1", "2606:4700:4700::1111", "fe80::1"]:
        write("address_policy", bytes([1]) + ipaddress.IPv6Address(v6).packed)
    for text in ["http://0x7f.1/", "http://2130706433:8080/", "https://[::ffff:7f00:1]/", "017700000001",
                 "http://%31%32%37.0.0.1/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://example.com/",
                 "http://127.1./x?y#z"]:
        write("address_policy", b"\x02" + text.encode())


if __name__ == "__main__":
    webhook_seeds()
    lenient_seeds()
    manifest_seeds()
    token_seeds()
    verify_seeds()
    signature_seeds()
    api_seeds()
    address_seeds()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
