""" "How to send it": snippets generated from an event's schema are valid code that sends
exactly the names and values shown, whatever characters they hold."""

import ast
import json
import re
import shlex
import shutil
import subprocess

import pytest

from catalog.web.snippets import (
    EXAMPLE_USER_ID,
    SnippetProperty,
    curl,
    example_value,
    javascript,
    python,
    snippets_for,
    track_body,
)

BASE = "https://catalog.example.com"
TRACK = f"{BASE}/v1/track"

SCHEMA = [
    SnippetProperty("coupon", "string", required=False, examples=["SUMMER"]),
    SnippetProperty("revenue", "number", required=True, examples=[39.95]),
    SnippetProperty("currency", "string", required=True, allowed_values=["EUR", "USD"]),
    SnippetProperty("paid", "boolean"),
    SnippetProperty("items", "array"),
    SnippetProperty("Quantity", "integer", required=True),
    SnippetProperty("shipped_at", "datetime"),
    SnippetProperty("nothing", "null"),
    SnippetProperty("untyped"),
]

#: Names and values that break naive quoting in one language or another.
NASTY = [
    SnippetProperty('say "hi"', "string", required=True, examples=['He said "no" \\ then left']),
    SnippetProperty("it's", "string", examples=["l'été"]),
    SnippetProperty("line\nbreak", "string", examples=["a\nb\r\tc"]),
    SnippetProperty("Größe 🎉", "string", examples=["日本語 ✓"]),
    SnippetProperty("sep", "string", examples=["x\u2028y\u2029z\u200bw\x7f\x00"]),
    SnippetProperty("tag", "string", examples=["\U000e0041 astral format char"]),
    SnippetProperty("lone", "string", examples=["\ud800 surrogate"]),
    SnippetProperty("nested", "object", examples=[{"a'b": [1, None, True, {'c"d': "$HOME"}]}]),
    SnippetProperty("$(rm -rf /)`x`", "string", examples=["$WRITE_KEY ${x} `id`"]),
]
NASTY_EVENT = "Order \"Completed\"\n'now' \\ 🎉"


def _expected(properties) -> dict:
    return {p.name: example_value(p) for p in properties}


def _python_call(code: str) -> ast.Call:
    tree = ast.parse(code)
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "attr", "") == "track"
    ]
    assert len(calls) == 1
    return calls[0]


def _js_object(code: str) -> dict:
    """The properties object of the JavaScript call, read as JSON once its comments go."""
    start = code.index("analytics.track(")
    body = code[start + len("analytics.track(") : code.rindex(");")]
    name_text, _, object_text = body.partition(", ")
    lines = [line for line in object_text.splitlines() if not line.strip().startswith("//")]
    return json.loads(name_text), json.loads("\n".join(lines))


def _same(a, b) -> bool:
    """Equal, lone surrogates included (json.loads gives them back as they were)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# Example values


def test_examples_come_first_then_allowed_values_then_the_data_type():
    both = SnippetProperty("a", "string", examples=["x"], allowed_values=["y"])
    assert example_value(both) == "x"
    assert example_value(SnippetProperty("a", "string", examples=[], allowed_values=["y"])) == "y"
    values = {p.name: example_value(p) for p in SCHEMA}
    assert values["paid"] is True
    assert values["items"] == []
    assert values["Quantity"] == 1
    assert values["shipped_at"] == "2026-01-31T12:00:00Z"
    assert values["nothing"] is None
    assert values["untyped"] == "text"


# JavaScript


def test_javascript_sends_required_properties_first_and_marks_optional_ones():
    code = javascript("Order Completed", SCHEMA, base_url=BASE)
    assert 'analytics.track("Order Completed", {' in code
    assert '{"Segment.io": {apiHost: "catalog.example.com/v1"}}' in code  # no scheme
    plain = javascript("Order Completed", SCHEMA, base_url="http://127.0.0.1:8000")
    assert '{"Segment.io": {apiHost: "127.0.0.1:8000/v1", protocol: "http"}}' in plain
    names = re.findall(r'^  "([^"]+)":', code, re.M)
    assert names == [
        "currency", "Quantity", "revenue",  # required, by name as a person reads it
        "coupon", "items", "nothing", "paid", "shipped_at", "untyped",
    ]  # fmt: skip
    assert code.index("// Optional:") < code.index('"coupon"')
    assert code.index("// Optional:") > code.index('"revenue"')
    name, properties = _js_object(code)
    assert name == "Order Completed"
    assert properties == _expected(SCHEMA)
    assert properties["currency"] == "EUR" and properties["revenue"] == 39.95


def test_javascript_escapes_every_name_and_value():
    code = javascript(NASTY_EVENT, NASTY, base_url=BASE)
    name, properties = _js_object(code)
    assert name == NASTY_EVENT
    assert _same(properties, _expected(NASTY))
    assert "\u2028" not in code and "\u2029" not in code and "\ud800" not in code
    assert "\\u2028" in code and "\\ud800" in code and "\\udb40\\udc41" in code
    code.encode("utf-8")  # no lone surrogate left: the page can be sent
    assert "Größe 🎉" in code and "日本語 ✓" in code  # readable text stays readable


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_javascript_is_valid_for_node(tmp_path):
    for event, properties in (("Order Completed", SCHEMA), (NASTY_EVENT, NASTY), ("Empty", [])):
        script = tmp_path / "snippet.js"
        script.write_text(
            "const sent = [];\nconst analytics = {track: (n, p) => sent.push([n, p])};\n"
            + javascript(event, properties, base_url=BASE)
            + "process.stdout.write(JSON.stringify(sent));\n",
            encoding="utf-8",
            errors="surrogatepass",
        )
        run = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
        [[name, sent]] = json.loads(run.stdout)
        assert name == event
        expected = _expected(properties)
        expected.pop("lone", None)  # a lone surrogate doesn't survive Node's JSON output
        sent.pop("lone", None)
        assert _same(sent, expected)


# Python


def test_python_is_valid_and_sends_the_schema():
    code = python("Order Completed", SCHEMA, base_url=BASE + "/")
    assert "import segment.analytics as analytics" in code
    assert 'analytics.host = "https://catalog.example.com"' in code
    call = _python_call(code)
    args = [ast.literal_eval(arg) for arg in call.args]
    assert args == [EXAMPLE_USER_ID, "Order Completed", _expected(SCHEMA)]
    assert "# Optional:" in code and "True" in code and "None" in code


def test_python_escapes_every_name_and_value():
    code = python(NASTY_EVENT, NASTY, base_url=BASE)
    call = _python_call(code)
    user_id, name, properties = (ast.literal_eval(arg) for arg in call.args)
    assert user_id == EXAMPLE_USER_ID
    assert name == NASTY_EVENT
    assert properties == _expected(NASTY)
    assert "\\U000e0041" in code and "\\u2028" in code
    code.encode("utf-8")


def test_an_event_without_properties_sends_an_empty_object():
    assert 'analytics.track("Signed Out", {});' in javascript("Signed Out", [], base_url=BASE)
    call = _python_call(python("Signed Out", [], base_url=BASE))
    assert ast.literal_eval(call.args[2]) == {}
    assert json.loads(track_body("Signed Out", []))["properties"] == {}


# curl


def test_curl_posts_the_body_to_our_track_endpoint_with_the_write_key():
    code = curl("Order Completed", SCHEMA, url=TRACK)
    words = shlex.split(code.replace("\\\n", " "))
    assert words[:3] == ["curl", "-u", "$WRITE_KEY:"]  # the key as Basic user, no password
    assert words[-1] == TRACK
    body = json.loads(words[words.index("-d") + 1])
    assert body == {
        "userId": EXAMPLE_USER_ID,
        "event": "Order Completed",
        "properties": _expected(SCHEMA),
    }


def test_curl_quotes_every_name_and_value_for_the_shell():
    code = curl(NASTY_EVENT, NASTY, url=TRACK)
    words = shlex.split(code.replace("\\\n", " "))
    assert len(words) == 8
    body = json.loads(words[words.index("-d") + 1])
    assert body["event"] == NASTY_EVENT
    assert _same(body["properties"], _expected(NASTY))


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_shell_passes_the_body_through_untouched(tmp_path):
    """Run the snippet with a `curl` that prints its arguments: $, ` and quotes stay text."""
    fake = tmp_path / "curl"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    fake.chmod(0o755)
    code = curl(NASTY_EVENT, [p for p in NASTY if p.name != "lone"], url=TRACK)
    run = subprocess.run(
        ["sh", "-c", code],
        capture_output=True,
        check=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "WRITE_KEY": "wk_123"},
    )
    arguments = run.stdout.decode().split("\0")[:-1]
    assert arguments[:2] == ["-u", "wk_123:"]
    body = json.loads(arguments[arguments.index("-d") + 1])
    assert body["event"] == NASTY_EVENT
    assert body["properties"]["$(rm -rf /)`x`"] == "$WRITE_KEY ${x} `id`"


def test_snippets_for_offers_the_three_in_order():
    snippets = snippets_for("Order Completed", SCHEMA, base_url=BASE, track_url=TRACK)
    assert [s.language for s in snippets] == ["javascript", "python", "shell"]
    assert all("Order Completed" in s.code for s in snippets)
