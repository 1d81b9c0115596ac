"""The receiver's gate (issue #22 item 4): it allows rather than denies. Its parser is checked
against rrsync's own splitting (property tests over any white space, backslashes and option
spellings), and gate() runs for real with a stand-in rrsync that records what reached it."""

from __future__ import annotations

import os
import pwd
import re
import sys
import tracemalloc

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import receiver_program
from hypothesis import given, settings
from hypothesis import strategies as st

# The server side of every rsync call of the ivpb sender (backup_script), as rsync 3.5.0 (the
# lab's bookworm-security) and 3.2.7 (Debian 12) write them.
SENDER_CALLS = [
    "rsync --server --sender -de.LsfxCIvu --list-only . ds/chain/",
    "rsync --server -re.iLsfxCIvu --mkpath . ds/chain/",
    "rsync --server -e.LsfxCIvu --timeout=600 . ds/chain/duplicity-full.20261129T010000Z.vol1.difftar.gpg",
    "rsync --server --sender -e.LsfxCIvu --timeout=600 . ds/chain/duplicity-full.20261129T010000Z.manifest",
    "rsync --server --sender -de.LsfxCIvu --timeout=600 . ds/chain/",
    "rsync --server -e.LsfxCIvu . ds/manifests/20261129T010000Z.json.gpg",
    "rsync --server --sender -e.LsfxCIvu . ds/manifests/20261129T010000Z.json",
    "rsync --server --sender -re.iLsfxCIvu . ds/chain/",
    "rsync --server -re.iLsfxC --mkpath . ds/annual/2026-2027/",
    "rsync --server --sender -tRe.LsfxCIvu --files-from=- --from0 . ds/chain/",  # the verify's fetch
]
# Spellings of options the sender never uses: backups aside, in-place writes, deletes, daemon.
REFUSED = ["-b", "--backup", "-vbz", "-bz", "-be.LsfxCIvu", "--inplace", "--inplace=", "--inpl",
           "--append", "--append-verify", "--backup-dir=x", "--suffix=~", "--delete", "--remove-source-files",
           "--daemon", "--config=x", "-W", "--write-devices", "--partial-dir=x", "--temp-dir=/tmp", "--link-dest=x",
           "--debug=ALL", "--msgs2stderr", "--list-only=x", "--timeout=", "-e", "-"]
# Every separator rrsync splits on (Python's \s over str: Unicode white space) and some it does not.
BLANKS = [" ", "\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680",
          "\u2000", "\u2009", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "  ", "\\ ", "\u200b"]


def rrsync_words(command):
    """How rrsync (rsync 3.2.7 and 3.5.0, support/rrsync) reads SSH_ORIGINAL_COMMAND: 'rsync' and
    '--server' split off at the first two single spaces, the rest split on any white space where a
    backslash takes the next character into the word; backslashes are removed from the values."""
    head = command.split(" ", 2)
    words = re.findall(r"(?:[^\s\\]|\\.)+", head[2]) if len(head) == 3 else []
    return head[:2] + [re.sub(r"\\(.)", r"\1", w) for w in words]


@pytest.fixture(scope="module")
def program():
    """The shipped program's functions and constants, by name."""
    return vars(receiver_program)


def parse(program, command):
    try:
        return program["parse"](command)
    except program["Refused"]:
        return None


@pytest.mark.parametrize("command", SENDER_CALLS)
def test_every_call_of_the_sender_passes_and_is_read_as_rrsync_reads_it(program, command):
    sender, options, path = parse(program, command)
    assert rrsync_words(command) == ["rsync", "--server", *(["--sender"] if sender else []), *options, ".", path]


@settings(max_examples=400, deadline=None)
@given(base=st.sampled_from(SENDER_CALLS), option=st.sampled_from(REFUSED), blank=st.sampled_from(BLANKS),
       where=st.integers(min_value=2, max_value=4))
def test_no_refused_option_passes_in_any_spelling_or_spacing(program, base, option, blank, where):
    words = base.split(" ")
    command = " ".join(words[:where]) + blank + option + " " + " ".join(words[where:])
    assert parse(program, command) is None


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(BLANKS + ["rsync", "--server", "--sender", "-re.iLsfxCIvu", "-de.L", "--mkpath",
                                          "--timeout=600", "--list-only", ".", "ds/chain/", "-b", "--inplace",
                                          "\\", "{a,b}", "*", "'", '"', "ds", "/", "-", "e.", "x"]), max_size=14))
def test_whatever_the_gate_accepts_rrsync_reads_the_same_and_it_is_the_senders(program, parts):
    command = "".join(parts)
    got = parse(program, command)
    if got is None:
        return
    sender, options, path = got
    assert rrsync_words(command) == command.split(" ")
    assert rrsync_words(command) == ["rsync", "--server", *(["--sender"] if sender else []), *options, ".", path]
    for option in options:  # only -d, -r (-t, -R fetching), the capability string and the sender's long options
        short = r"-[dtrR]*(e\d*\.[A-Za-z]*)?" if sender else r"-[dr]*(e\d*\.[A-Za-z]*)?"
        assert re.fullmatch(short + r"|--mkpath|--list-only|--timeout=\d+|--files-from=-|--from0", option), option
    assert not ({"--mkpath"} & set(options) and sender) and not ({"--list-only"} & set(options) and not sender)


# gate() itself, with a stand-in rrsync and sudo.

@pytest.fixture
def gate(program, tmp_path, monkeypatch):
    """run(command, quota=None, script=...) -> (exit code, what reached rrsync, logs)."""
    area = tmp_path / "area"
    (area / "ds" / "chain").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sudo").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(sys, "stderr", open(os.devnull, "w"))  # noqa: SIM115 - closed with the test
    seen = tmp_path / "seen"
    me = pwd.getpwuid(os.getuid()).pw_name

    def run(command, quota=None, script="pass"):
        rrsync = bin_dir / "rrsync"
        rrsync.write_text(f"#!{sys.executable}\nimport os, sys\n"
                          f"open({str(seen)!r}, 'a').write(os.environ['SSH_ORIGINAL_COMMAND'] + '\\n')\n{script}\n")
        rrsync.chmod(0o755)
        logs = []
        monkeypatch.setitem(program, "RRSYNC", str(rrsync))
        monkeypatch.setitem(program, "log", lambda prio, msg: logs.append(msg))
        monkeypatch.setitem(program, "clients", lambda: {me: {"client": "fs", "target": "nas", "area": str(area),
                                                              "quota": quota or {}, "share": 1}})
        monkeypatch.setenv("SSH_ORIGINAL_COMMAND", command)
        try:
            program["gate"]()
            code = 0
        except SystemExit as e:
            code = e.code
        reached = seen.read_text().splitlines() if seen.exists() else []
        seen.unlink(missing_ok=True)
        return code, reached, logs

    run.area = area
    return run


@pytest.mark.parametrize("command", [
    "rsync --server \v--inplace -e.LsfxCIvu . ds/chain/x",  # passed shlex as one word, rrsync split it
    "rsync --server -vbz -e.LsfxCIvu . ds/chain/x",
    "rsync --server -b -e.LsfxCIvu . ds/chain/x",
    "rsync --server --inpl -e.LsfxCIvu . ds/chain/x",
    "rsync --server -e.LsfxCIvu --inplace= . ds/chain/x",
    "rsync --server\u00a0--inplace -e.LsfxCIvu . ds/chain/x",
    "rsync --server -e.LsfxCIvu --backup-dir=old . ds/chain/x",
])
def test_the_gate_refuses_what_the_sender_never_sends_before_rrsync_sees_it(gate, command):
    code, reached, logs = gate(command)
    assert (code, reached) == (1, []) and len(logs) == 1 and logs[0].startswith("denied for client fs")


def test_the_gate_hands_rrsync_the_senders_call_unchanged(gate):
    code, reached, logs = gate(SENDER_CALLS[2])
    assert (code, reached, logs) == (0, [SENDER_CALLS[2]], [])


def test_the_gate_keeps_a_bounded_part_of_rsyncs_messages(gate):
    """Reported: 43.8 MB of stderr kept in memory from 149 bytes sent. 32 MB pass through; the
    gate's own memory stays under 1 MB and its log line names the last message."""
    script = "sys.stderr.write(('x' * 1023 + '\\n') * 32768 + 'the last words\\n'); sys.exit(3)"
    tracemalloc.start()
    try:
        code, reached, logs = gate(SENDER_CALLS[2], script=script)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 1 and reached == [SENDER_CALLS[2]] and "the last words" in logs[-1]
    assert peak < 1 << 20, peak


def test_a_client_over_its_quota_is_refused_uploads_but_can_still_read(gate):
    (gate.area / "ds" / "chain" / "junk").write_bytes(b"\0" * 300_000)
    (gate.area / "ds" / "chain" / "more").write_bytes(b"")
    code, reached, logs = gate(SENDER_CALLS[2], quota={"bytes": 200_000})
    assert (code, reached) == (1, []) and re.search(r"quota exceeded: 30\d{4} of 200000 bytes", logs[0])
    code, reached, _logs = gate(SENDER_CALLS[4], quota={"bytes": 200_000})
    assert (code, reached) == (0, [SENDER_CALLS[4]])  # listing, verify and restore still work
    code, reached, logs = gate(SENDER_CALLS[2], quota={"files": 1})
    assert (code, reached) == (1, []) and "2 of 1 files" in logs[0]
    assert gate(SENDER_CALLS[2], quota={"bytes": 400_000, "files": 2})[:2] == (0, [SENDER_CALLS[2]])


def test_a_session_crossing_the_quota_is_ended_and_fails(gate, program, monkeypatch):
    monkeypatch.setitem(program, "QUOTA_EVERY", 0.2)
    script = (f"open({str(gate.area / 'ds' / 'chain' / 'big')!r}, 'wb').write(bytes(300000))\n"
              "import time\ntime.sleep(30)")
    code, reached, logs = gate(SENDER_CALLS[2], quota={"bytes": 200_000}, script=script)
    assert code == 1 and reached == [SENDER_CALLS[2]] and "quota exceeded" in logs[-1]


def test_a_session_is_ended_after_the_timeout(gate, program, monkeypatch):
    monkeypatch.setitem(program, "SESSION_TIMEOUT", 1)
    code, _reached, logs = gate(SENDER_CALLS[4], script="import time\ntime.sleep(30)")
    assert code == 1 and "session longer than 1s" in logs[-1]


def test_an_upload_named_ahead_of_the_receivers_clock_is_refused(gate):
    code, reached, logs = gate("rsync --server -e.LsfxCIvu --timeout=600 . ds/chain/duplicity-full.20991231T000000Z.manifest")
    assert (code, reached) == (1, []) and "dated 20991231T000000Z" in logs[0]
