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
import xml.etree.ElementTree as ET
from typing import Any

from ivpb.render.labels import (
    STATUS,
    check_lang,
    clause_rows,
    control_name,
    diff_text,
    evidence_line,
    w,
    waiver_text,
)

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    """Text XML 1.0 can hold (ElementTree would write control characters no parser accepts)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _outcome(case: ET.Element, c: dict[str, Any], lang: str) -> str:
    """Add the failure/error/skipped child; return which one (or 'passed')."""
    status, detail = c["status"], c.get("detail", "")
    if status in ("drift", "missing") and c.get("advisory"):
        ET.SubElement(case, "skipped", message=_x(f"{w('advisory', lang)}: {STATUS[status][lang]}: {detail}"))
        return "skipped"
    if status in ("drift", "missing"):
        body = diff_text(c.get("diff")) or evidence_line(c.get("evidence"), lang)
        if c.get("waiver"):
            body = f"{body}\n{w('waiver', lang)}: {waiver_text(c['waiver'], lang)}".strip()
        el = ET.SubElement(case, "failure", message=_x(detail), type=status)
        el.text = _x(body)
        return "failure"
    if status == "error":
        el = ET.SubElement(case, "error", message=_x(detail), type="error")
        el.text = _x(evidence_line(c.get("evidence"), lang))
        return "error"
    if status == "waived":
        text = waiver_text(c.get("waiver"), lang) or detail
        ET.SubElement(case, "skipped", message=_x(f"{STATUS['waived'][lang]}: {text}"))
        return "skipped"
    if status == "not_applicable":
        ET.SubElement(case, "skipped", message=_x(f"{STATUS['not_applicable'][lang]}: {detail}"))
        return "skipped"
    return "passed"


def _system_out(c: dict[str, Any], lang: str) -> str:
    lines = [f"{w('sentence', lang)}: {c.get('sentence', '')}", f"{w('finding', lang)}: {c.get('detail', '')}"]
    if c.get("because"):
        lines.append(f"{w('because', lang)}: {c['because']}")
    if c.get("evidence"):
        lines.append(f"{w('evidence', lang)}: {json.dumps(c['evidence'], ensure_ascii=False, sort_keys=True)}")
    return "\n".join(lines)


def render(report: dict[str, Any], lang: str = "nl") -> str:
    check_lang(lang)
    stamp = re.sub(r"(\.\d+)?(Z|[+-]\d\d:?\d\d)$", "", report.get("generated_at", ""))
    policy = report.get("policy", {})
    root = ET.Element("testsuites", name=_x(policy.get("title") or policy.get("id") or "ivpb"))
    subjects = [*sorted(report.get("hosts", {}).items()), *sorted(report.get("sites", {}).items())]
    grand = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for n, clause in enumerate(clause_rows(report, lang)):
        name = f"{clause['id']} {clause['title']}".strip()
        suite = ET.SubElement(root, "testsuite", name=_x(name), id=str(n), package=_x(policy.get("id", "")),
                              timestamp=_x(stamp), hostname="ivpb")
        props = ET.SubElement(suite, "properties")
        for key, value in (("policy", policy.get("id", "")), ("clause", clause["id"]),
                           ("generated_at", report.get("generated_at", "")),
                           ("inventory", ", ".join(report.get("inventory", []))),
                           ("subjects_compliant", f"{clause['subjects_compliant']}/{clause['subjects']}")):
            ET.SubElement(props, "property", name=key, value=_x(value))
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        for subject, data in subjects:
            for c in data.get("controls", []):
                if c["clause"] != clause["id"]:
                    continue
                case = ET.SubElement(suite, "testcase", name=_x(f"{subject}: {control_name(c)}"),
                                     classname=_x(name), time="0")
                outcome = _outcome(case, c, lang)
                ET.SubElement(case, "system-out").text = _x(_system_out(c, lang))
                counts["tests"] += 1
                if outcome == "failure":
                    counts["failures"] += 1
                elif outcome == "error":
                    counts["errors"] += 1
                elif outcome == "skipped":
                    counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            grand[key] += value
        suite.set("time", "0")
        ET.SubElement(suite, "system-out").text = _x(f"{name}: {clause['comply']}")
        ET.SubElement(suite, "system-err")
    for key, value in grand.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
