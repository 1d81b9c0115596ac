"""Nothing drops out silently (#21 item 4): an ivpb_* variable that is no variable of ivpb (a
typo) or that sits where Ansible gives it to no host is an error naming file, line, host or
group and variable, with a did-you-mean; a classified data set that no host stores is an error
of `ivpb validate`, a line of `ivpb plan` and a missing result of the audit; a host with ivpb_*
variables of its own that stores, uses and does nothing is a warning. On copies of the example
school, read by Ansible's own loader."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from ivpb import cli
from ivpb.audit.evaluate import build_report, exit_code
from ivpb.inventory import load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy

from .test_plan_action import plan_play

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
FS = "host_vars/fileserver/main.yml"
ALL = "group_vars/all/classificatie.yml"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def inventory(tmp_path):
    inv = tmp_path / "school"
    shutil.copytree(EXAMPLE, inv)
    return inv


def edit(inv: Path, rel: str, old: str, new: str) -> None:
    path = inv / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(inv: Path, rel: str, text: str) -> int:
    """1-based line of the first line of a file that starts with text (after indentation)."""
    lines = (inv / rel).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith(text))


def run(capsys, *argv: str) -> tuple[int, str, list[str]]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err.strip().splitlines()


# --- unknown ivpb_* variables, at every level and in every kind of file ----------------------

HOSTS_YML = "hosts.yml"
TYPOS = [
    # (where it is written, how, the file, the typo, who, the variable meant)
    ("host_vars file", lambda inv: edit(inv, FS, "ivpb_stores:", "ivpb_store:"),
     FS, "ivpb_store", "host fileserver", "ivpb_stores"),
    ("group_vars/all", lambda inv: edit(inv, ALL, "ivpb_sites:", "ivpb_sitess:"),
     ALL, "ivpb_sitess", "group all", "ivpb_sites"),
    ("group_vars file of a group", lambda inv: (inv / "group_vars/servers.yml").write_text(
        "ivpb_needs_internett: true\n"), "group_vars/servers.yml", "ivpb_needs_internett", "group servers",
     "ivpb_needs_internet"),
    ("group_vars directory of a group", lambda inv: (inv / "group_vars/servers").mkdir() or (
        inv / "group_vars/servers/net.yml").write_text("# servers\nivpb_backup_targt: nas-offsite\n"),
     "group_vars/servers/net.yml", "ivpb_backup_targt", "group servers", "ivpb_backup_target"),
    ("inline host vars", lambda inv: edit(inv, HOSTS_YML, "        nas:\n",
                                          "        nas:\n          ivpb_stors: []\n"),
     HOSTS_YML, "ivpb_stors", "host nas", "ivpb_stores"),
    ("inline group vars", lambda inv: edit(inv, HOSTS_YML, "    werkposten:\n",
                                           "    werkposten:\n      vars:\n        ivpb_usse: [fotos]\n"),
     HOSTS_YML, "ivpb_usse", "group werkposten", "ivpb_uses"),
    ("inline vars of all", lambda inv: (inv / HOSTS_YML).write_text(
        (inv / HOSTS_YML).read_text() + "  vars:\n    ivpb_wan_failovr: {}\n"),
     HOSTS_YML, "ivpb_wan_failovr", "group all", "ivpb_wan_failover"),
]


@pytest.mark.parametrize("change, rel, typo, who, meant", [t[1:] for t in TYPOS], ids=[t[0] for t in TYPOS])
def test_unknown_variable_is_an_error_with_file_line_and_did_you_mean(capsys, inventory, change, rel, typo, who,
                                                                    meant):
    change(inventory)
    code, out, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1 and not out
    line = line_of(inventory, rel, typo)
    assert f"{inventory / rel}:{line}:" in "\n".join(err)
    hit = [e for e in err if typo + ":" in e]
    assert len(hit) == 1, err
    assert hit[0].startswith(f"{inventory / rel}:{line}:") and f"{who}: {typo}: unknown variable" in hit[0]
    assert f"did you mean {meant!r}?" in hit[0]
    # the plan refuses it too: a host that silently lost its variables is no plan
    assert run(capsys, "plan", "-i", str(inventory))[0] == 1


def test_the_reported_typo_no_longer_makes_the_fileserver_drop_out(capsys, inventory):
    """The issue's case: `ivpb_store:` in the file server's vars was "OK: 6 hosts valid"."""
    edit(inventory, FS, "ivpb_stores:", "ivpb_store:")
    code, out, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1 and "OK" not in out
    assert err == [f"{inventory / FS}:4:1: host fileserver: ivpb_store: unknown variable, which no role or check "
                   "reads (did you mean 'ivpb_stores'?)"]


def test_the_audit_stops_its_check_run_on_a_typo_and_names_it(capsys, inventory):
    """ivpb audit starts its check run while it validates (benchmarks/README.md): an invalid
    inventory still ends the audit with the one line of validate, and the run it started is
    stopped, not left running or reaching a host."""
    edit(inventory, FS, "ivpb_stores:", "ivpb_store:")
    code, out, err = run(capsys, "audit", "-i", str(inventory), "-q", "--no-history")
    assert code == 1 and out == ""
    assert any("host fileserver: ivpb_store: unknown variable" in e for e in err), err
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(inventory).encode() in _cmdline(p)]
    assert left == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_unknown_variable_with_nothing_close_lists_the_known_ones(capsys, inventory):
    (inventory / "group_vars/all/zz.yml").write_text("ivpb_qqq: 1\n")
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1 and len(err) == 1
    assert "group all: ivpb_qqq: unknown variable" in err[0] and "did you mean" not in err[0]
    # the known names are the schemas' own (one owner)
    names = sorted(p.stem for p in (ROOT / "src/ivpb/schemas/vars").glob("*.json"))
    assert err[0].endswith("expected one of: " + ", ".join(names))


def test_a_variable_the_project_passes_itself_is_known(capsys, inventory):
    """ivpb audit --policy passes ivpb_policy_file to enforce.yml: not an unknown variable."""
    (inventory / "group_vars/all/zz.yml").write_text("ivpb_policy_file: /etc/ivpb/beleid.yml\n")
    assert run(capsys, "validate", "-i", str(inventory))[0] == 0


# --- ivpb_* variables where Ansible gives them to no host -------------------------------------

MISPLACED = [
    ("vars under a host in hosts.yml",
     lambda inv: edit(inv, HOSTS_YML, "        nas:\n", "        nas:\n          vars:\n            ivpb_uses: [fotos]\n"),
     HOSTS_YML, "ivpb_uses", "host nas", "written inside the variable 'vars'"),
    ("a variable directly under a group",
     lambda inv: edit(inv, HOSTS_YML, "    werkposten:\n", "    werkposten:\n      ivpb_needs_internet: false\n"),
     HOSTS_YML, "ivpb_needs_internet", "group werkposten", "directly under group werkposten"),
    ("a misspelt vars: of a group",
     lambda inv: edit(inv, HOSTS_YML, "    werkposten:\n", "    werkposten:\n      var:\n        ivpb_site: x\n"),
     HOSTS_YML, "ivpb_site", "group werkposten", "under 'var' (did you mean 'vars'?), a key Ansible skips"),
    ("a host_vars file that repeats the host's name",
     lambda inv: (inv / "host_vars/nas/zz.yml").write_text("nas:\n  ivpb_needs_internet: false\n"),
     "host_vars/nas/zz.yml", "ivpb_needs_internet", "host nas", "written inside the variable 'nas'"),
]


@pytest.mark.parametrize("change, rel, variable, who, why", [m[1:] for m in MISPLACED], ids=[m[0] for m in MISPLACED])
def test_a_variable_ansible_gives_to_no_host_is_an_error(capsys, inventory, change, rel, variable, who, why):
    change(inventory)
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1
    hit = [e for e in err if f"{who}: {variable}: " in e]
    assert len(hit) == 1, err
    assert hit[0].startswith(f"{inventory / rel}:") and why in hit[0]


@pytest.mark.parametrize("inline", [False, True], ids=["group_vars file", "inline vars"])
def test_variables_of_a_group_without_hosts_are_an_error(capsys, inventory, inline):
    text = (inventory / HOSTS_YML).read_text()
    if inline:
        (inventory / HOSTS_YML).write_text(text + "    printers:\n      vars:\n        ivpb_needs_internet: false\n")
        rel, line = HOSTS_YML, len(text.splitlines()) + 3
    else:
        (inventory / HOSTS_YML).write_text(text + "    printers:\n      hosts: {}\n")
        (inventory / "group_vars/printers.yml").write_text("ivpb_needs_internet: false\n")
        rel, line = "group_vars/printers.yml", 1
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1
    assert err == [f"{inventory / rel}:{line}:{9 if inline else 1}: group printers: ivpb_needs_internet: group "
                   "without hosts, so its ivpb_* variables apply to nothing; expected the hosts it was meant for "
                   "under it (hosts: or children:)"]


@pytest.mark.parametrize("variable", ["ivpb_datasets", "ivpb_sites", "ivpb_backup_targets"])
def test_a_variable_of_the_whole_school_given_to_one_host_is_an_error(capsys, inventory, variable):
    """Ansible replaces a mapping, it does not merge it: that host would not see the school's."""
    (inventory / "host_vars/nas/zz.yml").write_text(f"# the nas's own\n{variable}: {{}}\n")
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1
    assert err == [f"{inventory / 'host_vars/nas/zz.yml'}:2:1: host nas: {variable}: describes the whole school, "
                   "but is written for host nas: Ansible gives this host this mapping instead of the school's (it "
                   "replaces, it does not merge); expected it in group_vars/all (or all: vars:)"]


def test_a_misspelt_key_inside_a_store_entry_says_which_was_meant(capsys, inventory):
    edit(inventory, FS, "    sync_target: nas-offsite", "    sync_targt: nas-offsite")
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1 and len(err) == 1
    assert "fileserver: ivpb_stores[0].sync_targt: unknown key (did you mean 'sync_target'?)" in err[0]


def test_a_misspelt_data_set_name_says_which_was_meant(capsys, inventory):
    edit(inventory, FS, "dataset: boekhouding", "dataset: boekhoudng")
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1
    assert any("fileserver: ivpb_stores[2].dataset: unknown data set 'boekhoudng' (did you mean 'boekhouding'?)" in e
               for e in err), err


# --- data sets stored nowhere ------------------------------------------------------------------

def test_a_classified_data_set_no_host_stores_is_an_error_and_a_plan_line(capsys, inventory):
    edit(inventory, "host_vars/nas/main.yml", "  - dataset: scans\n    path: /srv/nas/scans\n", "")
    code, out, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 1 and not out
    line = line_of(inventory, ALL, "scans:") + 1  # its record (a message points at the value)
    assert err == [f"{inventory / ALL}:{line}:5: data set scans: ivpb_datasets.scans: classified, but no host stores "
                   "it (no ivpb_stores entry names it), so none of its controls applies anywhere; expected it in the "
                   "ivpb_stores of the host that holds it (or of the system ivpb does not manage that holds it: ivpb_managed: "
                   "false)"]
    code, out, err = run(capsys, "plan", "-i", str(inventory))
    assert code == 0
    assert out.rstrip().splitlines()[-1] == (
        "scans: ontbreekt: nergens opgeslagen (geen ivpb_stores van een host of gedeclareerd systeem noemt deze "
        "dataset, dus geen enkele "
        "maatregel geldt ervoor; gebruikt door: -)")
    code, out, _ = run(capsys, "plan", "-i", str(inventory), "--format", "json")
    assert json.loads(out)["stored_nowhere"] == {"scans": []}


def without_boekhouding(inv: Path) -> None:
    """The secretariaat uses boekhouding; the file server no longer stores it."""
    edit(inv, FS, "  - dataset: boekhouding\n    path: /srv/data/boekhouding\n", "")


def test_a_data_set_used_but_stored_nowhere_is_an_error_on_the_using_host(capsys, inventory):
    without_boekhouding(inventory)
    code, _, err = run(capsys, "validate", "-i", str(inventory))
    rel = "host_vars/secretariaat/main.yml"
    assert code == 1
    assert err == [f"{inventory / rel}:{line_of(inventory, rel, 'ivpb_uses')}:13: secretariaat: ivpb_uses[0]: uses "
                   "data set 'boekhouding', but no host stores it (no ivpb_stores entry names it), so none of its "
                   "controls applies anywhere; expected it in the ivpb_stores of the host that holds it (or of the "
                   "system ivpb does not manage that holds it: ivpb_managed: false)"]
    code, out, _ = run(capsys, "plan", "-i", str(inventory), "--lang", "en")
    assert code == 0 and out.rstrip().splitlines()[-1].startswith(
        "boekhouding: missing: stored nowhere") and "used by: secretariaat" in out


def test_the_audit_reports_a_data_set_stored_nowhere_as_missing(inventory):
    without_boekhouding(inventory)
    policy, inv = load_policy(), load_inventory([str(inventory)])
    report = build_report(policy, inv, plan_inventory(inv, policy), {}, inv.chosen(), NOW, "nl")
    schema = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())
    jsonschema.validate(report, schema)
    subject = report["hosts"]["(inventaris)"]
    assert subject["inventory"] is True and subject["site"] is None
    [result] = subject["controls"]
    assert (result["id"], result["dataset"], result["status"]) == ("backup.daily", "boekhouding", "missing")
    assert result["detail"] == ("ontbreekt: nergens opgeslagen (geen ivpb_stores van een host of gedeclareerd systeem "
                                "noemt boekhouding; gebruikt door: secretariaat)")
    # on its own it keeps the report from being compliant
    assert exit_code({"(inventaris)": subject}, {}) == 2
    assert report["summary"]["clauses"]["§4"]["counts"]["missing"] >= 1
    for fmt in cli.FORMATS:
        text = cli.render(report, fmt, "nl")
        assert "nergens opgeslagen" in text and "boekhouding" in text, fmt
        assert "(inventaris) (niet gecontacteerd)" not in text, fmt  # it is no host to contact
    # a complete inventory has no such subject
    full = load_inventory([str(EXAMPLE)])
    report = build_report(policy, full, plan_inventory(full, policy), {}, full.chosen(), NOW, "nl")
    assert "(inventaris)" not in report["hosts"]


def test_the_audit_refuses_an_unknown_variable_but_not_a_data_set_stored_nowhere(capsys, inventory):
    """The audit checks the inventory like validate, except the findings it reports itself."""
    from types import SimpleNamespace

    args = SimpleNamespace(inventory=[str(inventory)], policy=None, vault=None, limit=None)
    without_boekhouding(inventory)
    policy, inv = cli._validated(args, findings_are_errors=False)
    assert plan_inventory(inv, policy).stored_nowhere == {"boekhouding": ["secretariaat"]}
    edit(inventory, FS, "ivpb_site:", "ivpb_sit:")
    with pytest.raises(cli.UserError) as refused:
        cli._validated(args, findings_are_errors=False)
    assert any("host fileserver: ivpb_sit: unknown variable" in line for line in refused.value.lines())


# --- a host that does nothing -------------------------------------------------------------------

def test_a_host_with_ivpb_variables_that_does_nothing_is_a_warning(capsys, inventory):
    edit(inventory, HOSTS_YML, "        nas:\n", "        nas:\n        printer:\n")
    (inventory / "host_vars/printer.yml").write_text("ivpb_site: hoofdgebouw\nivpb_needs_internet: true\n")
    code, out, err = run(capsys, "validate", "-i", str(inventory))
    assert code == 0 and out.startswith("OK: 14 hosts valid")
    assert err == [f"{inventory / 'host_vars/printer.yml'}:2:1: warning: host printer: has ivpb_* variables "
                   "(ivpb_needs_internet, ivpb_site) but stores and uses no data set (ivpb_stores, ivpb_uses) and "
                   "has no role, so no control of the policy applies to it"]


def test_the_example_and_the_lab_overlay_validate_without_warnings(capsys):
    """The router, the NUT server and the offsite NAS store nothing but each has a role."""
    code, out, err = run(capsys, "validate", "-i", str(EXAMPLE), "-i", str(ROOT / "inventories/lab"))
    assert (code, err) == (0, []) and out.startswith("OK: 13 hosts valid")


# --- the playbook's plan action: the same validation --------------------------------------------

def play(tmp_path: Path, inventory: Path) -> subprocess.CompletedProcess:
    return plan_play(tmp_path, ["-i", str(inventory)])


def test_enforce_refuses_an_unknown_variable_and_warns_of_a_data_set_stored_nowhere(tmp_path, inventory):
    without_boekhouding(inventory)
    proc = play(tmp_path, inventory)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "uses data set 'boekhouding', but no host stores it" in proc.stdout + proc.stderr
    edit(inventory, FS, "ivpb_stores:", "ivpb_store:")
    proc = play(tmp_path, inventory)
    assert proc.returncode != 0
    assert "invalid inventory, no host was changed" in proc.stdout
    assert "host fileserver: ivpb_store: unknown variable, which no role or check reads (did you mean 'ivpb_stores'?)" \
        in proc.stdout


def test_enforce_refuses_variables_that_apply_to_nothing(tmp_path, inventory):
    text = (inventory / HOSTS_YML).read_text()
    (inventory / HOSTS_YML).write_text(text + "    printers:\n      vars:\n        ivpb_needs_internet: false\n")
    proc = play(tmp_path, inventory)
    assert proc.returncode != 0
    assert "group printers: ivpb_needs_internet: group without hosts" in proc.stdout
