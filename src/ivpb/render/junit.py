"""`ivpb audit --format junit`: the compliance diff as JUnit XML for CI dashboards.

One <testsuite> per clause (§2 Stroomvoorziening ... §5 Brandveiligheid), not per host: CI tools
summarise per suite, so the dashboard reads like the policy, clause by clause, and stays at four
suites for 1,000 hosts; the host is the first part of every test case name, and §5's subjects
(sites) fit without a fake host.

One <testcase> per host x control (site x control for §5), named
``fileserver: backup.daily [leerlingenadministratie]``, classname the clause (id and title):

  compliant       passes
  drift, missing  <failure type=status message=detail>, body the diff (else the evidence)
  error           <error type="error" message=detail>
  waived          <skipped message="uitzondering: justification (approver, expiry)">
  not_applicable  <skipped message="niet van toepassing: detail">

An advisory control ("indien mogelijk", internet.sla) never blocks the audit, so its drift or
missing is <skipped> with the reason, not a failure that would turn a pipeline red. Each test case
carries the policy's Dutch sentence and the evidence in <system-out>. Only elements and attributes
of the common JUnit schema (Jenkins/Ant) are used; characters XML 1.0 cannot hold are written as
``\\xNN`` so the file always parses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from ivpb.i18n import check_lang, t
from ivpb.render.labels import (
    basis_counts,
    basis_label,
    clause_rows,
    diff_text,
    evidence_line,
    status_label,
    unreachable_text,
    w,
    waiver_text,
)
from ivpb.render.latin1 import latin1

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Evidence in <system-out>: one line, keys sorted (the same key order for every host).
_EVIDENCE = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
# What an attribute value escapes beyond element content.
_ATTR = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def _x(text: object) -> str:
    """Text XML 1.0 can hold (control characters no parser accepts become \\xNN)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _text(text: object, entities: dict[str, str] | None = None) -> str:
    """Element content, escaped as ElementTree escapes it when it writes Latin-1: beyond Latin-1
    as character references (ivpb.render.latin1); with entities, these characters too."""
    return latin1(escape(_x(text), entities or {}))


@lru_cache(maxsize=4096)  # messages and class names repeat for every host
def _attr(text: object) -> str:
    """An attribute value, escaped as ElementTree escapes it (quotes, newlines and tabs as references)."""
    return _text(text, _ATTR)


def _outcome(c: dict[str, Any], lang: str, why: str = "") -> tuple[str, str]:
    """The failure/error/skipped child as XML (empty when passed), and which one it is ('passed');
    `why` opens the body of an error (the host's unreachable reason, on its first test case)."""
    status, detail = c["status"], c.get("detail", "")
    if status == "compliant":
        return "", "passed"
    if status in ("drift", "missing") and c.get("advisory"):
        return _skipped(f"{w('advisory', lang)}: {status_label(status, lang)}: {detail}"), "skipped"
    if status in ("drift", "missing"):
        body = diff_text(c.get("diff"), lang) or evidence_line(c.get("evidence"), lang)
        if c.get("waiver"):
            body = f"{body}\n{w('waiver', lang)}: {waiver_text(c['waiver'], lang)}".strip()
        return _element("failure", f'message="{_attr(detail)}" type="{_attr(status)}"', body), "failure"
    if status == "error":
        body = "\n".join(filter(None, (why, evidence_line(c.get("evidence"), lang))))
        return _element("error", f'message="{_attr(detail)}" type="error"', body), "error"
    if status == "waived":
        text = waiver_text(c.get("waiver"), lang) or detail
        return _skipped(f"{status_label('waived', lang)}: {text}"), "skipped"
    if status == "not_applicable":
        return _skipped(f"{status_label('not_applicable', lang)}: {detail}"), "skipped"
    return "", "passed"


def _skipped(message: str) -> str:
    return f'<skipped message="{_attr(message)}" />'


def _element(tag: str, attrs: str, text: str) -> str:
    body = _text(text)
    return f"<{tag} {attrs}>{body}</{tag}>" if body else f"<{tag} {attrs} />"


class _Escaped(dict):
    """text -> escaped text, for strings the report shares between results (sentences, reasons,
    data set names): each is escaped once, and the lookup hashes a string that caches its hash."""

    def __init__(self, escape: Callable[[str], str], prefix: str = "") -> None:
        super().__init__()
        self.escape, self.prefix = escape, prefix

    def __missing__(self, text: str) -> str:
        self[text] = value = self.escape(f"{self.prefix}{text}")
        return value


class _Evidence(dict):
    """Evidence as the escaped line of <system-out>, encoded once per distinct evidence: hosts
    converged by the same run report the same evidence for many controls."""

    MAX = 8192  # distinct evidences kept; beyond that each is encoded as it comes

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def __call__(self, evidence: dict[str, Any]) -> str:
        try:
            key = tuple(evidence.items())
            line = self.get(key)
        except TypeError:  # a list or dict among the values: not hashable, not cached
            return self.prefix + _text(_EVIDENCE(evidence))
        if line is None:
            line = self.prefix + _text(_EVIDENCE(evidence))
            if len(self) < self.MAX:
                self[key] = line
        return line


def render(report: dict[str, Any], lang: str = "nl") -> str:
    """Written as text, laid out as ElementTree with ET.indent would (an element per test case is
    what made a large federation's report slow, benchmarks/README.md); one list of lines, joined once."""
    check_lang(lang)
    stamp = re.sub(r"(\.\d+)?(Z|[+-]\d\d:?\d\d)$", "", report.get("generated_at", ""))
    policy = report.get("policy", {})
    sentence = _Escaped(_text, f"{w('sentence', lang)}: ")
    finding = _Escaped(_text, f"\n{w('finding', lang)}: ")
    because = _Escaped(_text, f"\n{w('because', lang)}: ")
    evidence = _Evidence(f"\n{_text(w('evidence', lang))}: ")
    names = _Escaped(_attr)  # subjects, control ids and data sets of the test case names
    by_clause: dict[str, list[tuple[str, dict[str, Any], bool]]] = {}
    for subjects, is_host in ((report.get("hosts", {}), True), (report.get("sites", {}), False)):
        for subject in sorted(subjects):
            for c in subjects[subject].get("controls", []):
                by_clause.setdefault(c["clause"], []).append((subject, c, is_host))
    # An unreachable host's reason, once: in the body of its first error (each error's message
    # only says that the host was unreachable), or, for a host without one (a receiver with no
    # control of its own), in the first suite's <system-err>.
    reasons = {name: unreachable_text(h, lang) for name, h in report.get("hosts", {}).items()
               if h.get("unreachable_reason")}
    aside = [f"{name}: {why}" for name, why in sorted(reasons.items())
             if not any(c["status"] == "error" for c in report["hosts"][name].get("controls", []))]
    grand = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', ""]  # out[1]: the root tag, once the totals are known
    for n, clause in enumerate(clause_rows(report, lang)):
        name = f"{clause['id']} {clause['title']}".strip()
        classname = _attr(name)
        head = len(out)
        out += ["", "    <properties>"]  # out[head]: the suite's tag, once its counts are known
        for key, value in (
            ("policy", policy.get("id", "")),
            ("clause", clause["id"]),
            ("generated_at", report.get("generated_at", "")),
            ("inventory", ", ".join(report.get("inventory", []))),
            ("subjects_compliant", f"{clause['subjects_compliant']}/{clause['subjects']}"),
            ("basis", basis_counts(report, lang)),
        ):
            out.append(f'      <property name="{key}" value="{_attr(value)}" />')
        out.append("    </properties>")
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        for subject, c, is_host in by_clause.get(clause["id"], ()):
            why = reasons.pop(subject, "") if is_host and c["status"] == "error" and reasons else ""
            child, outcome = _outcome(c, lang, why)
            child = f"      {child}\n" if child else ""
            dataset = f" [{names[c['dataset']]}]" if c.get("dataset") else ""
            why = because[c["because"]] if c.get("because") else ""
            seen = evidence(c["evidence"]) if c.get("evidence") else ""
            if basis_label(c, lang):  # attested or pulled: said beside the finding
                seen += _text(f"\n{t('basis.summary', lang, counts=basis_label(c, lang))}")
            out.append(  # one string per test case: concatenating its parts one by one copies them again
                f'    <testcase name="{names[subject]}: {names[c["id"]]}{dataset}" classname="{classname}" time="0">\n'
                f"{child}      <system-out>{sentence[c.get('sentence', '')]}{finding[str(c.get('detail', ''))]}{why}"
                f"{seen}</system-out>\n    </testcase>"
            )
            counts["tests"] += 1
            if outcome != "passed":
                counts[outcome if outcome == "skipped" else f"{outcome}s"] += 1
        comply = _text(f"{name}: {clause['comply']}")
        err = f"    <system-err>{_text(chr(10).join(aside))}</system-err>" if aside and not n else "    <system-err />"
        out += [f"    <system-out>{comply}</system-out>", err, "  </testsuite>"]
        for key, value in counts.items():
            grand[key] += value
        package, tally = _attr(policy.get("id", "")), " ".join(f'{k}="{v}"' for k, v in counts.items())
        out[head] = (
            f'  <testsuite name="{classname}" id="{n}" package="{package}" timestamp="{_attr(stamp)}"'
            f' hostname="ivpb" {tally} time="0">'
        )
    title, tally = (
        _attr(policy.get("title") or policy.get("id") or "ivpb"),
        " ".join(f'{k}="{v}"' for k, v in grand.items()),
    )
    root = f'<testsuites name="{title}" {tally} time="0"'
    if len(out) == 2:
        out[1] = f"{root} />"
    else:
        out[1] = f"{root}>"
        out.append("</testsuites>")
    _attr.cache_clear()
    out.append("")  # the final newline, in the one join: one copy of the whole report less
    return "\n".join(out)
