"""The README's demo, enforce.yml and the compliance diff on the lab's real hosts (issues #7, #21).

On the example school (inventories/example + the lab overlay), brought up once by `lab/demo`
(tests/lab/conftest.py, from a lab that was down): the demo ends with exit 0, its audit before
enforcing reports drift, its audit after is compliant with a real restore drill of every stored
data set; enforce again changes nothing; three things broken by hand are named exactly (host,
control, clause) with the diff; a waiver turns one into `waived`, an expired one does not; an
invalid inventory stops both enforce.yml and the audit before any host is contacted. That check
mode on fresh hosts changes nothing is molecule's (molecule/_shared/check_unchanged.yml).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from tests.lab.conftest import escrow_fingerprint

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
INV = ["-i", "inventories/example", "-i", "inventories/lab"]
HOSTS = ["fileserver", "nas", "nas-offsite", "secretariaat", "nutserver", "router"]
# Stand-ins for systems ivpb does not manage (lab/appliances, #23): in the report, never reached.
APPLIANCES = ["synology"]
# The systems ivpb does not manage whose evidence the lab pulls instead of the example's
# attestations (inventories/lab/host_vars): synology's UPS feed and share, cloudschijf's WebDAV drive.
PULLED = ["synology", "cloudschijf"]
# What enforcing may touch, and what check mode must leave exactly as it was.
# The jobs' own status files are left out: the sync heartbeat (every 30 minutes) writes them, and
# no module ever does.
SNAPSHOT = (
    "find /etc /srv /usr/local /var/spool/cron /var/lib/ivpb -xdev -path /var/lib/ivpb/backup/status -prune "
    "-o -printf '%p %s %T@ %m %u\\n' 2>/dev/null | sort | sha256sum; "
    "systemctl list-units --type=service --state=running --no-legend --plain | awk '{print $1}' "
    "| grep -E '^(nut|lsyncd|ivpb|cron)' | sort"
)
GNUPGHOME = "/etc/ivpb/backup/gnupg"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CONTAINERS_CONF"] = str(ROOT / "lab" / "containers.conf")
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout,
                          check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
    return proc.stdout


def on(host: str, command: str) -> str:
    return ok(run("lab/lab", "ssh", host, command))


def snapshot() -> dict[str, str]:
    return {h: on(h, SNAPSHOT) for h in HOSTS}


def recap(output: str) -> dict[str, dict[str, int]]:
    out = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        if ":" in line and "ok=" in line:
            host, counts = line.split(":", 1)
            out[host.strip()] = {k: int(v) for k, v in (kv.split("=") for kv in counts.split())}
    return out


STORED = {"fileserver": ("leerlingenadministratie", "personeelsdossiers", "boekhouding"),
          "nas": ("lesmateriaal", "fotos", "scans"),
          "synology": ("fotoarchief",), "cloudschijf": ("oudercommunicatie",)}  # pulled by fileserver (#23)
EVIDENCE = ROOT / "inventories" / "lab" / ".evidence"


def audit(tmp_path: Path, *extra: str, name: str = "audit") -> tuple[int, dict]:
    report = tmp_path / f"{name}.json"
    junit = tmp_path / f"{name}.xml"
    proc = run("ivpb", "audit", *INV, *extra, "-q", "-o", str(report), "-o", str(junit))
    assert proc.returncode in (0, 1, 2), proc.stderr
    data = checked_report(report, junit)
    assert data["exit_code"] == proc.returncode
    return proc.returncode, data


def checked_report(report: Path, junit: Path) -> dict:
    """The JSON report, valid against its schema, and its JUnit twin well formed."""
    data = json.loads(report.read_text())
    schema = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and len(suites.findall("testsuite")) == 4
    return data


def findings(report: dict) -> set[tuple[str, str, str, str | None, str]]:
    """(host or site, clause, control, data set, status) of everything not compliant or n/a."""
    out = set()
    for kind in ("hosts", "sites"):
        for subject, entry in report[kind].items():
            for c in entry["controls"]:
                if c["status"] not in ("compliant", "not_applicable") and not c.get("advisory"):
                    out.add((subject, c["clause"], c["id"], c.get("dataset"), c["status"]))
    return out


@pytest.fixture(scope="module")
def lab(demo_lab):
    return demo_lab


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("audit")


def demo_report(name: str) -> dict:
    return checked_report(ROOT / "reports" / f"{name}.json", ROOT / "reports" / f"{name}.xml")


def test_the_demo_ends_green_with_a_real_drill_of_every_stored_data_set(lab):
    """`make demo` from a lab that was down: exit 0, the audit after compliant, one passed drill
    of each of the eight stored data sets ivpb backs up (synology's and cloudschijf's pulled by fileserver; made by
    ivpb restore --drill with the lab's escrow key),
    the herstelplan written."""
    assert lab.returncode == 0, "\n".join((lab.stdout + lab.stderr).splitlines()[-60:])
    after = demo_report("audit-after")
    assert findings(after) == set() and after["exit_code"] == 0
    drills = {}
    for path in sorted(EVIDENCE.glob("drills/*/*/*.json")):
        drills[(path.parts[-3], path.parts[-2])] = json.loads(path.read_text())
    assert set(drills) == {(h, ds) for h, sets in STORED.items() for ds in sets}
    assert all(d["result"] == "ok" and "sample" not in d and d["files_checked"] > 0 for d in drills.values()), drills
    practice = [c for c in after["hosts"]["fileserver"]["controls"] if c["id"] == "backup.best_practice"]
    assert len(practice) == 3 and all(c["evidence"]["last_drill"]["result"] == "ok" for c in practice), practice
    plan = (ROOT / "reports" / "herstelplan.md").read_text()
    assert all(ds in plan for sets in STORED.values() for ds in sets)
    assert "resultaat: OK" in lab.stdout and "(exit 0: 0 = compliant)" in lab.stdout


def test_every_host_answers_on_its_own_fixed_lab_address(lab):
    """lab/lab gives each host the address it lists, never one from podman's IPAM, which once
    handed nas-offsite the subnet's broadcast address (.255): it booted, its SSH timed out."""
    listed = dict(line.split()[::3] for line in ok(run("lab/lab", "hosts")).splitlines())
    assert sorted(listed) == sorted(HOSTS + APPLIANCES) and len(set(listed.values())) == len(listed)
    for host, address in listed.items():
        eth0 = (ok(run("podman", "exec", f"ivpb-lab-{host}", "ip", "-4", "-o", "addr", "show", "dev", "eth0"))
                if host in APPLIANCES else on(host, "ip -4 -o addr show dev eth0")).split()
        interface = ipaddress.ip_interface(eth0[eth0.index("inet") + 1])
        assert str(interface.ip) == address, (host, eth0)
        assert interface.ip not in (interface.network.network_address, interface.network.broadcast_address)


def test_the_demos_audit_of_fresh_hosts_reports_drift(lab):
    before = demo_report("audit-before")
    assert before["exit_code"] == 2
    found = findings(before)
    assert ("nas", "§2", "power.ups", None, "drift") in found
    assert ("fileserver", "§2", "power.redundant_ups", None, "drift") in found
    assert ("fileserver", "§4", "backup.daily", "leerlingenadministratie", "drift") in found
    assert ("fileserver", "§3", "internet.failover", None, "drift") in found  # enforced on the router
    unmanaged = {h for h, e in before["hosts"].items() if "system_kind" in e}  # never reached (#23)
    assert {s for s, *_ in found} <= set(HOSTS) | unmanaged
    # the systems ivpb does not manage: before the demo's ivpb attest, each attested control is
    # missing; the lab pulls synology's and cloudschijf's evidence instead (drift until the NUT
    # server and their backup proxy are enforced)
    assert unmanaged and {st for s, *_, st in found if s in unmanaged - set(PULLED)} == {"missing"}
    assert {st for s, *_, st in found if s in PULLED} == {"drift"}


def test_a_second_enforce_run_changes_nothing(lab):
    second = recap(ok(run("ansible-playbook", "playbooks/enforce.yml", *INV)))
    assert {h: r["changed"] for h, r in second.items()} == dict.fromkeys(HOSTS, 0)


def test_an_audit_after_the_demo_is_compliant_with_the_nights_evidence(lab, work):
    rc, report = audit(work, name="after")
    assert findings(report) == set()
    assert rc == 0
    evidence = {c["dataset"]: c["evidence"] for c in report["hosts"]["fileserver"]["controls"]
                if c["id"] == "backup.daily"}
    assert all(e.get("last_backup") for e in evidence.values()), evidence


def test_a_limited_audit_asks_the_router_and_the_receivers_too(lab, work):
    """--limit fileserver: its internet.failover is the router's word and its protected copy the
    receiver's, so the check run asks them as well; the report holds fileserver alone, compliant."""
    rc, report = audit(work, "--limit", "fileserver", name="limited")
    assert set(report["hosts"]) == {"fileserver"}
    assert findings(report) == set() and rc == 0
    ids = {c["id"] for c in report["hosts"]["fileserver"]["controls"] if c["status"] == "compliant"}
    assert {"internet.failover", "backup.best_practice"} <= ids


def test_changes_by_hand_are_named_exactly_with_the_diff(lab, work):
    on("nas", "systemctl stop nut-monitor")
    on("fileserver", r"sed -i 's|^0 22 \* \* \* \(.*run leerlingenadministratie\)$|0 12 * * 3 \1|' "
                     "/etc/cron.d/ivpb-backup")
    on("fileserver", f"GNUPGHOME={GNUPGHOME} gpg --batch --yes --delete-keys {escrow_fingerprint()}")
    rc, report = audit(work, name="broken")
    assert rc == 2
    assert findings(report) == {
        ("nas", "§2", "power.ups", None, "drift"),
        ("fileserver", "§4", "backup.daily", "leerlingenadministratie", "drift"),
        ("fileserver", "§4", "backup.encrypted", "leerlingenadministratie", "drift"),
        ("fileserver", "§4", "backup.encrypted", "personeelsdossiers", "drift"),
        ("fileserver", "§4", "backup.encrypted", "boekhouding", "drift"),
    }
    daily = next(c for c in report["hosts"]["fileserver"]["controls"]
                 if c["id"] == "backup.daily" and c.get("dataset") == "leerlingenadministratie")
    assert any("0 22 * * *" in d["after"] and "0 12 * * 3" in d["before"] for d in daily["diff"]), daily


def waivers_inventory(path: Path, expires: str) -> Path:
    """An extra inventory source that adds only a waiver (group_vars/all)."""
    (path / "group_vars").mkdir(parents=True, exist_ok=True)
    (path / "hosts.yml").write_text("all:\n  hosts:\n    nas:\n")
    (path / "group_vars" / "all.yml").write_text(
        "ivpb_waivers:\n"
        "  - control: power.ups\n    host: nas\n"
        "    justification: UPS van de NAS wordt vervangen, levering in januari\n"
        f"    approver: directie\n    expires: '{expires}'\n"
    )
    return path


def test_a_waiver_applies_until_it_expires(lab, work):
    # within the policy's maximum length of a waiver (one year, checks/waivers.py)
    active = waivers_inventory(work / "waiver-active", (dt.date.today() + dt.timedelta(days=90)).isoformat())
    rc, report = audit(work, "-i", str(active), name="waived")
    nas_ups = next(c for c in report["hosts"]["nas"]["controls"] if c["id"] == "power.ups")
    assert nas_ups["status"] == "waived" and nas_ups["waiver"]["underlying_status"] == "drift"
    assert ("nas", "§2", "power.ups", None, "waived") in findings(report)

    expired = waivers_inventory(work / "waiver-expired", "2020-01-31")
    rc, report = audit(work, "-i", str(expired), name="expired")
    nas_ups = next(c for c in report["hosts"]["nas"]["controls"] if c["id"] == "power.ups")
    assert nas_ups["status"] == "drift" and nas_ups["waiver"]["active"] is False
    assert rc == 2


def test_invalid_inventory_stops_enforce_and_audit_before_any_host(lab, tmp_path):
    bad = tmp_path / "inventories"
    shutil.copytree(ROOT / "inventories" / "example", bad / "example")
    shutil.copytree(ROOT / "inventories" / "lab", bad / "lab")
    ds = bad / "example" / "group_vars" / "all" / "classificatie.yml"
    ds.write_text(ds.read_text().replace("biv: {b: laag, i: laag, v: intern}\n", "biv: {b: hoog, i: laag, v: intern}\n", 1))
    bad_inv = ["-i", str(bad / "example"), "-i", str(bad / "lab")]
    expected = run("ivpb", "validate", *bad_inv)
    assert expected.returncode == 1
    line = expected.stderr.strip().splitlines()[0]
    assert "ivpb_datasets.fotos.biv.b: 'hoog' is not one of laag, belangrijk, noodzakelijk" in line

    before = snapshot()
    play = run("ansible-playbook", "playbooks/enforce.yml", *bad_inv)
    assert play.returncode != 0
    assert line in play.stdout
    assert "UNREACHABLE" not in play.stdout and "ok: [" not in play.stdout.split("Plan the controls")[-1]
    audited = run("ivpb", "audit", *bad_inv, "-q")
    assert audited.returncode == 1
    assert audited.stderr.strip().splitlines() == expected.stderr.strip().splitlines()
    assert snapshot() == before


def test_a_missing_package_is_drift_and_enforce_installs_it(lab, work):
    """The modules check their own Debian packages in the same call (no apt task per role): a
    purged package is drift in the audit, and enforce installs it (apt-get, lists refreshed)."""
    on("secretariaat", "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nut-client >/dev/null")
    rc, report = audit(work, name="no-package")
    assert rc == 2
    assert ("secretariaat", "§2", "power.ups", None, "drift") in findings(report)
    ok(run("ansible-playbook", "playbooks/enforce.yml", *INV))
    assert "Status: install ok installed" in on("secretariaat", "dpkg -s nut-client")
    assert on("secretariaat", "systemctl is-active nut-monitor").strip() == "active"
    second = recap(ok(run("ansible-playbook", "playbooks/enforce.yml", *INV)))
    assert {h: r["changed"] for h, r in second.items()} == dict.fromkeys(HOSTS, 0)
