"""Nothing a scanned file writes reaches the terminal as markup or escapes, crashes the table,
or breaks JSON / SARIF (issue 14). Names, paths and details are attacker-controlled text."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import pytest
from rich.console import Console

from crownwatch.outputs.sarif import dumps_sarif
from crownwatch.scan import scan_paths
from crownwatch.scan.cli import run
from crownwatch.scan.report import print_table, to_json, write_table
from crownwatch.scan.scanner import scan_bytes

from .pkw import SHELL, P

LINK = "[link=http://evil.example]trusted_helper"
ESCAPES = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\\x1b[2J\x1b]0;pwned\x07\x9b31m"
BIDI = "\u202eslp.\u2066x\u2069\u200f"


def _evil_named(module: str, name: str) -> bytes:
    # STACK_GLOBAL carries any string; the call's argument would create the canary marker
    return P(4).sg(module, name).s(SHELL).op(b"\x85R.").bytes()


def _terminal(results) -> str:
    """Both table renderers, as a terminal gets them: Rich's (library callers) and the plain
    coloured lines the command line writes."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="truecolor", width=200)
    print_table(results, console=console)
    plain = io.StringIO()
    write_table(results, plain, color=True)
    return buf.getvalue() + "\n" + plain.getvalue()


def _no_hostile_control(out: str) -> None:
    assert "\x1b]" not in out  # no OSC (hyperlinks, window titles) at all
    assert "\x1b[2J" not in out and "\x07" not in out and "\x9b" not in out
    for ch in "\u202e\u2066\u2069\u200f":
        assert ch not in out


def test_markup_in_a_global_name_is_not_a_hyperlink():
    res = scan_bytes(_evil_named("os", LINK), "m.pkl")
    assert res[0].verdict == "malicious"
    out = _terminal(res)
    assert "\x1b]8;" not in out  # Rich would emit OSC 8 for [link=...] markup
    assert "[link=http://evil.example]trusted_helper" in out  # shown literally


def test_raw_escape_sequences_in_names_never_reach_the_terminal():
    res = scan_bytes(_evil_named(ESCAPES, "system" + ESCAPES), "m.pkl")
    out = _terminal(res)
    _no_hostile_control(out)
    assert "\ufffd" in out


@pytest.mark.parametrize("name", ["[/]", "x[/]y", "[bold]", "[/bold]", "[link]", ":warning:"])
def test_markup_closers_in_names_do_not_crash_the_table(name):
    res = scan_bytes(_evil_named("os", "system" + name), "m.pkl")
    out = _terminal(res)
    assert name in out


def test_directory_named_like_markup(tmp_path, capsys):
    # a path that reads "[/]x" (a folder "[" holding "]x") closed Rich markup that was never
    # opened: MarkupError, exit 1 - the code for "malicious"
    d = tmp_path / "[/]x"
    d.mkdir(parents=True)
    (d / "ok.pkl").write_bytes(b"\x80\x04K\x01.")
    (d / "[bold]evil[/].pkl").parent.mkdir(parents=True)
    (d / "[bold]evil[/].pkl").write_bytes(_evil_named("os", "system"))
    assert run([str(d / "ok.pkl")]) == 0  # clean: exit 0, not the 1 of a crash
    out = capsys.readouterr().out
    assert "[/]x" in out and "clean" in out
    assert run([str(d)]) == 1  # the malicious file, not a crash
    out = capsys.readouterr().out
    assert "[bold]evil[/].pkl" in out and "malicious" in out


def test_archive_member_names_are_inert():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{ESCAPES}{BIDI}{LINK}.pkl", _evil_named("os", "system"))
        z.writestr("line\nbreak\r[/].pkl", b"\x80\x04K\x01.")
    res = scan_bytes(buf.getvalue(), "a.zip")
    out = _terminal(res)
    _no_hostile_control(out)
    assert "\x1b]8;" not in out
    assert "line\nbreak" not in out  # a cell is one line: a name cannot fake a new row


def test_gguf_metadata_in_details_is_inert():
    key = "tokenizer.chat_template." + ESCAPES + LINK
    tpl = "{{ cycler.__init__.__globals__.os.popen('" + SHELL + "') }}"
    kb, vb = key.encode(), tpl.encode()
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(kb)) + kb
    data += struct.pack("<IQ", 8, len(vb)) + vb
    res = scan_bytes(data, "m.gguf")
    assert res[0].verdict == "malicious"
    out = _terminal(res)
    _no_hostile_control(out)
    assert "\x1b]8;" not in out


def test_json_and_sarif_stay_valid_whatever_the_bytes(tmp_path, capsys):
    bad_name = os.fsdecode(b"\xff\xfe-" + "\u202e".encode() + b"[/].pkl")  # not UTF-8
    p = tmp_path / bad_name
    p.parent.mkdir(parents=True)
    p.write_bytes(_evil_named("\udce9" + ESCAPES, "system"))
    results = scan_paths([str(tmp_path)], workers=1)
    assert results[0].verdict == "malicious"
    for text in (to_json(results), dumps_sarif(results)):
        text.encode("ascii")  # ASCII-only: nothing raw reaches a terminal that cats it
        doc = json.loads(text)
        blob = json.dumps(doc, ensure_ascii=False)
        blob.encode("utf-8")  # no lone surrogates: strict parsers accept it
    sarif = json.loads(dumps_sarif(results))
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    uri = uri["artifactLocation"]["uri"]
    assert " " not in uri and "[" not in uri and "\\" not in uri
    for fmt in ("json", "sarif", "table"):
        assert run([str(tmp_path)], fmt) == 1
        out = capsys.readouterr().out
        out.encode("utf-8")
        if fmt != "table":
            json.loads(out)


def test_the_command_line_table_is_one_line_per_result_whatever_the_names():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("line\nbreak\r\u2028sep\u0085[/].pkl", b"\x80\x04K\x01.")
        z.writestr(f"{ESCAPES}{BIDI}.pkl", _evil_named("os", "system\nfake row"))
    res = scan_bytes(buf.getvalue(), "a.zip")
    out = io.StringIO()
    write_table(res, out, color=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 + len(res) + 1  # title, header, one per result, counts
    assert "\x1b" not in out.getvalue()  # no colour asked for: no escape at all
    _no_hostile_control(out.getvalue())


def test_the_command_line_table_colours_only_on_a_terminal(monkeypatch):
    from crownwatch.scan.report import _color_wanted

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _color_wanted(Tty()) and not _color_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _color_wanted(Tty())
