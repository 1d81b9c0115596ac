"""Read an inventory with Ansible's own machinery (group_vars/host_vars precedence, vault)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivpb import safe_yaml
from ivpb.errors import Problem, UserError, did_you_mean
from ivpb.vault import OPTIONS as VAULT_OPTIONS
from ivpb.vault import Secrets, ansible_env
from ivpb.vault import apply as apply_vault

PREFIX = "ivpb_"
# Variables that describe the whole school; defined once in group_vars/all.
SCHOOL_VARS = ("ivpb_datasets", "ivpb_sites", "ivpb_backup_targets")


@dataclass
class Inventory:
    """The ivpb_* variables of every host, templated, decrypted and plain (JSON types only)."""

    hosts: dict[str, dict[str, Any]]
    sources: tuple[str, ...] = ()
    selected: list[str] | None = None  # the hosts --limit chose; None means all
    origins: Origins | None = None  # where each variable is written (messages name the file)

    def chosen(self) -> list[str]:
        return list(self.hosts) if self.selected is None else self.selected

    def school(self, name: str) -> dict[str, Any]:
        """A school-wide mapping (data sets, sites, targets), as the hosts see it (computed once)."""
        cache = self.__dict__.setdefault("_school", {})
        if name not in cache:
            merged: dict[str, Any] = {}
            for hostvars in self.hosts.values():
                value = hostvars.get(name)
                if isinstance(value, Mapping):
                    for key, item in value.items():
                        merged.setdefault(key, item)
            cache[name] = merged
        return cache[name]


def managed(hostvars: dict[str, Any]) -> bool:
    """Whether ivpb manages the host: `ivpb_managed: false` declares a system it does not (a NAS
    appliance, a Windows PC, a cloud service: ivpb.unmanaged), which nothing ever connects to."""
    return hostvars.get("ivpb_managed", True) is not False


def plain(value: Any) -> Any:
    """Ansible's tagged/lazy values to plain JSON types; dates become ISO strings."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@contextlib.contextmanager
def _unparsed_is_failed():
    """A source Ansible cannot parse fails the read (ansible_env sets this for a new process; a
    process that read Ansible's configuration before, such as the audit job's action, has its own)."""
    from ansible import constants as C

    names = ("INVENTORY_UNPARSED_IS_FAILED", "INVENTORY_ANY_UNPARSED_IS_FAILED")
    saved = {name: getattr(C, name) for name in names}
    for name in names:
        setattr(C, name, True)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(C, name, value)


def load_inventory(
    sources: Iterable[str],
    vault: Secrets | None = None,
    limit: str | None = None,
) -> Inventory:
    """The inventory, decrypted with the vault secrets (ivpb.vault.secrets_of)."""
    sources = tuple(sources)
    for src in sources:
        if "," not in src and not Path(src).exists():
            raise UserError(f"inventory {src!r} does not exist")
    ansible_env()
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.utils.display import Display
    from ansible.vars.manager import VariableManager

    # Ansible prints a multi-line warning per inventory plugin that could not parse a source;
    # the user gets our one line instead.
    display = Display()
    failures: list[tuple[str, str]] = []  # (plugin, first line of why) of each source a plugin could not parse

    def capture(msg=None, exception=None, *args, **kwargs):
        m = re.search(r"with '(\w+)' plugin", str(msg or ""))
        if m and exception is not None:
            cause = exception.__cause__ or exception
            failures.append((m.group(1), _first_line(cause)))

    display.warning = lambda *a, **k: None
    display.error_as_warning = capture
    loader = DataLoader()
    if vault:
        apply_vault(loader, vault)
    origins = scan_sources(sources, have_vault=bool(vault), decrypt=_decrypter(loader))
    try:
        with _unparsed_is_failed():
            manager = InventoryManager(loader=loader, sources=list(sources))
        variables = VariableManager(loader=loader, inventory=manager)
        hosts = _read_hosts(manager, loader, _plain_vars_loader(loader, origins.parsed), variables, Templar,
                            origins=origins)
        origins.groups.update({h.name: _group_order(h) for h in manager.get_hosts()})
        _unknown_subjects(origins, set(hosts), set(manager.groups))
        # The whole inventory is read and validated (a backup target may lie outside --limit);
        # --limit only chooses the hosts to act on and report.
        selected = None
        if limit:
            manager.subset(limit)
            selected = [h.name for h in manager.get_hosts()]
            if not selected:
                raise UserError(f"--limit {limit!r} matches no host of the inventory")
    except AnsibleError as exc:
        text = _first_line(exc)
        if "failed to parse inventory source" in text.lower() and failures:
            source = text.rsplit(" ", 1)[-1]
            wanted = "yaml" if source.endswith(YAML_SUFFIXES) else "ini"
            plugin, why = next((f for f in failures if f[0] == wanted), failures[-1])
            raise UserError(f"{source}: not a valid inventory ({plugin}: {why})") from None
        raise UserError(f"inventory: {text}") from None
    if not hosts:
        raise UserError(f"inventory {', '.join(sources)}: no hosts found")
    return Inventory(hosts=hosts, sources=sources, selected=selected, origins=origins)


def from_play(hostvars: Any) -> Inventory | None:
    """Inside a running playbook (the plan action): every host's ivpb_* variables read from the
    play's own inventory the way load_inventory reads them, with the extra vars (-e) on top - or
    None when anything else could give a host an ivpb_* value (a fact or set_fact, a templated
    extra var, vars files next to the playbook); then the caller templates hostvars, which is
    exact but slow for a large federation (benchmarks/README.md). tests/unit/test_plan_action.py
    proves both give the same plan."""
    from ansible.template import Templar

    # HostVars keeps the play's inventory, variable manager and loader (with its vault secrets).
    manager, variables, loader = hostvars._inventory, hostvars._variable_manager, hostvars._loader
    basedir = Path(loader.get_basedir())
    if (basedir / "group_vars").exists() or (basedir / "host_vars").exists():
        return None
    extra = {k: v for k, v in variables.extra_vars.items() if k.startswith(PREFIX)}
    if any(_templated(v) for v in extra.values()):
        return None
    everyone = manager.get_hosts(ignore_limits=True, ignore_restrictions=True)
    for host in everyone:
        try:
            cached = variables._fact_cache.get(host.name) or {}  # a cache plugin raises KeyError for none
        except KeyError:
            cached = {}
        if any(k.startswith(PREFIX) for facts in (cached, variables._nonpersistent_fact_cache.get(host.name, {}))
               for k in facts):
            return None
    # The play's inventory files, read strictly and within bounds as `ivpb validate` reads them
    # (a bomb or duplicate key is one line here, not a blow-up while reading hostvars).
    sources = [s for s in manager._sources if isinstance(s, str)]
    origins = scan_sources(sources, have_vault=bool(loader._vault.secrets), decrypt=_decrypter(loader))
    origins.groups.update({h.name: _group_order(h) for h in everyone})
    hosts = _read_hosts(manager, loader, _plain_vars_loader(loader, origins.parsed), variables, Templar, everyone,
                        origins=origins)
    overlay = {k: plain(v) for k, v in extra.items()}
    return Inventory(hosts={name: {**hv, **overlay} for name, hv in hosts.items()}, origins=origins)


def _read_hosts(manager, loader, vars_loader, variables, templar_class, hosts_to_read=None,
                origins: Origins | None = None) -> dict[str, dict]:
    """Every host's ivpb_* variables, merged in Ansible's own precedence order.

    VariableManager.get_vars() builds every magic variable of a host, which is slow for a large
    federation (benchmarks/README.md). The inventory stage of that precedence is reproduced here
    with Ansible's own pieces (group order, vars plugins, combine_vars), the variables of each
    group combination read and converted once and shared by its hosts; a host whose values hold a
    template or a vaulted string takes the full VariableManager path, so templating and
    decryption stay exactly Ansible's. The vars plugins read their files through vars_loader
    (plain files read by libyaml, see _plain_vars_loader). tests/unit/test_inventory.py proves
    both paths agree.
    """
    from ansible.inventory.helpers import get_group_vars, sort_groups
    from ansible.utils.vars import combine_vars
    from ansible.vars.plugins import get_vars_from_inventory_sources

    sources = manager._sources
    all_group = manager.groups["all"]
    by_groups: dict[tuple[str, ...], dict[str, Any]] = {}  # group names -> their variables (_plain_vars)
    hosts: dict[str, dict[str, Any]] = {}
    for host in manager.get_hosts() if hosts_to_read is None else hosts_to_read:
        groups = sort_groups([g for g in host.get_groups() if g.name != "all"])
        key = tuple(g.name for g in groups)
        if key not in by_groups:
            merged = combine_vars(all_group.get_vars(), get_group_vars(groups))
            merged = combine_vars(merged, get_vars_from_inventory_sources(vars_loader, sources, [all_group], "task"))
            merged = combine_vars(merged, get_vars_from_inventory_sources(vars_loader, sources, groups, "task"))
            by_groups[key] = _plain_vars(merged)
        own = combine_vars(host.get_vars(), get_vars_from_inventory_sources(vars_loader, sources, [host], "task"))
        hv = {**by_groups[key], **_plain_vars(own)}
        if any(v is _TEMPLATED for v in hv.values()):
            full = variables.get_vars(host=host, include_hostvars=False)
            templar = templar_class(loader=loader, variables=full)
            hosts[host.name] = {k: _templated_value(templar, host, k, v, origins)
                                for k, v in full.items() if k.startswith(PREFIX)}
        else:
            hosts[host.name] = hv
    return hosts


_TEMPLATED = object()  # a variable whose value only Ansible's templating gives


def _plain_vars(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The ivpb_* variables as plain JSON types, _TEMPLATED for each that holds a template or a
    vaulted value. A value that is plain already (the plain vars loader read it) is kept as it
    is, not copied: the hosts of a group share its values."""
    return {k: _TEMPLATED if _templated(v) else v if _is_plain(v) else plain(v)
            for k, v in variables.items() if k.startswith(PREFIX)}


# Text that only Ansible's own loader reads right: a vault (a whole file or an inline !vault),
# any explicit YAML tag (!unsafe, !!binary, ...), a Jinja2 template, Ansible's JSON markers.
# Over-matching (a "!" in a plain string) only costs the slower path.
_NOT_PLAIN = re.compile(r"\$ANSIBLE_VAULT|!|\{\{|\{%|\{#|__ansible_")


_STR_TAG = "tag:yaml.org,2002:str"


class _NotPlain(Exception):
    """A vars file for Ansible's own loader."""


class _PlainSafeLoader(yaml.CSafeLoader):
    """What plain() makes of Ansible's values, built directly: string keys, dates as ISO text."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep)
        # Ansible's constructor checks for duplicate keys after the same merge-key flattening.
        if len(mapping) != len(node.value) or not all(type(k) is str for k in mapping):
            raise _NotPlain
        return mapping

    def construct_yaml_timestamp(self, node):
        return super().construct_yaml_timestamp(node).isoformat()


_PlainSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _PlainSafeLoader.construct_yaml_timestamp)


def _plain_value(text: str, node: yaml.Node | None = None) -> Any:
    """A vars file's text as plain dicts and lists, as Ansible's from_yaml reads it: JSON first
    (YAML reads some JSON differently, e.g. 1e3), else YAML, read by libyaml (_plain_yaml, or
    built from the composed node when the caller has it). _NotPlain for what Ansible's own loader
    must read: a template, a vault or a tag (_NOT_PLAIN), a duplicate or non-text key, anything
    but a mapping."""
    if _NOT_PLAIN.search(text):
        raise _NotPlain
    try:
        value = json.loads(text)
    except ValueError:
        if node is None:
            value = _plain_yaml(text)
        else:
            builder = _PlainSafeLoader("")
            try:
                value = builder.construct_document(node)
            finally:
                builder.dispose()
    if value is not None and not isinstance(value, dict):
        raise _NotPlain
    return value


def _plain_yaml(text: str) -> Any:
    """One YAML document of plain data, built from libyaml's events: libyaml reads the text,
    PyYAML's resolver and SafeConstructor give each scalar its type (_scalar), and the mappings
    and sequences are assembled here, without PyYAML's node graph and generic constructor (four
    times the cost of the parse; benchmarks/README.md). _NotPlain for anything beyond plain data
    (an anchor, alias, tag or merge key; a duplicate or non-text key; more than one document;
    nesting deeper than safe_yaml.MAX_DEPTH): _PlainSafeLoader reads those, after
    safe_yaml.compose has checked them. tests/unit/test_inventory.py compares the two."""
    stack: list[tuple[Any, Any, bool]] = []  # the enclosing containers: (container, its pending key, has one)
    current: Any = None
    key, keyed, root, documents = None, False, None, 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            value = _scalar(event.value, event.implicit[0])
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= safe_yaml.MAX_DEPTH:
                raise _NotPlain
            stack.append((current, key, keyed))
            current, keyed = ({} if kind is yaml.MappingStartEvent else []), False
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            value = current
            current, key, keyed = stack.pop()
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _NotPlain
            continue
        elif kind is yaml.AliasEvent:
            raise _NotPlain
        else:  # the stream's start and end, a document's end
            continue
        if current is None:
            root = value
        elif type(current) is list:
            current.append(value)
        elif keyed:
            current[key], keyed = value, False
        elif type(value) is str and value not in current:
            key, keyed = value, True
        else:  # a key that is not text, or a second one
            raise _NotPlain
    return root


_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = _PlainSafeLoader("")


@functools.lru_cache(maxsize=65536)  # the same words and numbers recur in every host's file
def _scalar(text: str, plain: bool) -> Any:
    """A scalar's value, typed as PyYAML types it: a plain scalar by the resolver (bool, int,
    float, null, timestamp), a quoted one is text."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (plain, not plain))
    if tag == _STR_TAG:
        return text
    construct = _CONSTRUCTOR.yaml_constructors.get(tag)
    if construct is None:  # a merge key, a value key: beyond plain data
        raise _NotPlain
    return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, text))


def _plain_vars_loader(loader, parsed: dict[str, Any] | None = None):
    """A DataLoader for the vars plugins (host_group_vars: group_vars/, host_vars/) whose plain
    YAML/JSON files are read by libyaml into plain dicts and lists (_plain_value), each once:
    scan_sources has read most of them already (parsed: real path -> value).

    ansible-core 2.19's loader tags every value with its origin, which makes reading a large
    federation's host_vars slow and takes most of the memory (benchmarks/README.md). Which files
    are read, in which order, and how they merge stay Ansible's own (the plugin and combine_vars
    run unchanged); only the parsing of a file that holds nothing Ansible-specific changes. A
    file that is not plain (see _plain_value), is not UTF-8 or not parseable goes to Ansible's
    own loader, so its decryption, tags and error messages stay exactly Ansible's."""
    from ansible.parsing.dataloader import DataLoader

    class PlainVarsLoader(DataLoader):
        def load_from_file(self, file_name, cache="all", unsafe=False, json_only=False, trusted_as_template=False):
            path = self.path_dwim(file_name)
            if cache == "all" and path in self._FILE_CACHE:
                value = self._FILE_CACHE[path]
            else:
                try:
                    if json_only:
                        raise _NotPlain
                    real = os.path.realpath(path)
                    if parsed is not None and real in parsed:
                        value = parsed.pop(real)  # read (and checked) by scan_sources already
                    else:
                        with open(path, "rb") as f:
                            value = _plain_value(f.read().decode("utf-8"))
                except (OSError, ValueError, TypeError, yaml.YAMLError, _NotPlain):
                    # Ansible's own loader reads it, and says what is wrong with it if anything.
                    return super().load_from_file(file_name, cache, unsafe, json_only, trusted_as_template)
                if cache == "all":
                    self._FILE_CACHE[path] = value
            return value if unsafe else copy.deepcopy(value)

    vars_loader = PlainVarsLoader()
    vars_loader.set_basedir(loader.get_basedir())
    vars_loader.set_vault_secrets(loader._vault.secrets)
    return vars_loader


def _templated_value(templar, host, name: str, value: Any, origins: Origins | None) -> Any:
    """One variable templated (and decrypted) for one host; a template that fails or a vaulted
    value without its password is one line naming the file, host and variable."""
    from ansible.errors import AnsibleError

    try:
        return plain(templar.template(value))
    except AnsibleError as exc:
        where = (origins or Origins()).where(host, name)
        text = _first_line(exc)
        if "vault" in text.lower() or "decrypt" in text.lower():
            text = f"cannot decrypt this vaulted value ({text}); give the vault password ({VAULT_OPTIONS})"
        raise UserError(f"{where}: host {host.name}: {name}: {text}") from None


# --- reading the user's files before Ansible does ---------------------------------------------

YAML_SUFFIXES = (".yml", ".yaml", ".json")


@dataclass
class Origins:
    """Where each ivpb_* variable of a host or group is written: (kind, name) -> {variable:
    (file, key node, value node)}; kind is "host" or "group". `groups` holds each host's groups
    from the most specific to all (Ansible's precedence, highest first)."""

    files: dict[tuple[str, str], dict[str, tuple[str, Any, Any]]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    # real path -> value of the plain vars files the scan already read (the vars loader reuses them)
    parsed: dict[str, Any] = field(default_factory=dict)
    # (kind, name) -> the host_vars/group_vars entry that gives it variables
    subjects: dict[tuple[str, str], str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # the inventory sources (where a variable of an INI file is)
    # ivpb_* variables written where Ansible gives them to no host (ivpb.validate reports them)
    misplaced: list[Problem] = field(default_factory=list)

    def where(self, host, name: str) -> str:
        """file:line:column of a host's (an Ansible Host's) variable, "inventory" when unknown."""
        if host.name not in self.groups:
            try:
                self.groups[host.name] = _group_order(host)
            except AttributeError:
                self.groups[host.name] = []
        return self.locate(host.name, name) or ", ".join(self.sources) or "inventory"

    def locate(self, host: str, path: str) -> str | None:
        """file:line:column of a variable path such as ivpb_stores[1].path as the host gets it:
        its own host_vars first, then its groups; the deepest node of the path that the file
        holds. None when no scanned file defines the variable."""
        tokens = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        if not tokens:
            return None
        for key in [("host", host)] + [("group", g) for g in self.groups.get(host, ["all"])]:
            hit = self.files.get(key, {}).get(tokens[0])
            if hit is None:
                continue
            origin, key_node, node = hit
            if key_node is None:  # a file read without its nodes (_scan_file): compose it now
                key_node, node = self._nodes(origin, tokens[0])
                if key_node is None:
                    return origin
            mark = key_node.start_mark
            for token in tokens[1:]:
                node = safe_yaml.child(node, token)
                if node is None:
                    break
                mark = node.start_mark
            return safe_yaml.where(origin, mark)
        return None


    def position(self, subject: tuple[str, str], name: str) -> str:
        """file:line:column of a variable a host_vars/group_vars file or an inventory file gives
        subject ("host"/"group", name) directly."""
        origin, key_node, _ = self.files[subject][name]
        if key_node is None:
            key_node, _ = self._nodes(origin, name)
        return safe_yaml.where(origin, key_node.start_mark if key_node is not None else None)

    def _nodes(self, origin: str, name: str) -> tuple[Any, Any]:
        """(key node, value node) of a top-level variable of a file, composed on demand."""
        try:
            node = safe_yaml.compose(Path(origin).read_text(encoding="utf-8-sig"), origin)
        except (OSError, UnicodeError, UserError):
            return None, None
        for k, v in node.value if isinstance(node, safe_yaml.yaml.MappingNode) else ():
            if isinstance(k, safe_yaml.yaml.ScalarNode) and k.value == name:
                return k, v
        return None, None


def _group_order(host) -> list[str]:
    groups = sorted(host.get_groups(), key=lambda g: (g.depth, g.priority, g.name), reverse=True)
    return [g.name for g in groups]


def _decrypter(loader):
    """bytes of a vaulted file -> its plain bytes, with the loader's vault secrets (None: none)."""
    vault = getattr(loader, "_vault", None)
    if vault is None or not vault.secrets:
        return None

    def decrypt(data: bytes, origin: str) -> bytes:
        try:
            return vault.decrypt(data)
        except Exception as exc:  # AnsibleVaultError and friends: one line
            raise UserError(f"{origin}: cannot decrypt with the vault password given ({_first_line(exc)})") from None
    return decrypt


def scan_sources(sources: Iterable[str], have_vault: bool, decrypt=None) -> Origins:
    """Every YAML file of the inventory sources (inventory files, group_vars/, host_vars/) read
    strictly and within bounds before Ansible reads it (ivpb.safe_yaml: syntax with line and
    column, duplicate keys, alias bombs, UTF-8, size); a directory where a vars file is expected,
    a host_vars directory without vars files and a vaulted file without a vault password are
    errors too. Returns where each ivpb_* variable is written."""
    sources = tuple(sources)
    origins = Origins(sources=sources)
    for src in sources:
        if "," in src:
            continue
        path = Path(src)
        if not path.is_dir() and not path.is_file():
            raise UserError(f"{src}: not a regular file or directory; expected an inventory")
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.is_file() and entry.suffix in YAML_SUFFIXES and not entry.name.startswith("."):
                    _scan_file(entry, None, have_vault, origins, decrypt)
            base = path
        else:
            if path.suffix in YAML_SUFFIXES:
                _scan_file(path, None, have_vault, origins, decrypt)
            base = path.parent
        for kind, folder in (("group", base / "group_vars"), ("host", base / "host_vars")):
            if folder.is_dir():
                _scan_vars_dir(folder, kind, have_vault, origins, decrypt)
            elif folder.exists():
                raise UserError(f"{folder}: expected a directory of vars files, found a file")
    return origins


def _unknown_subjects(origins: Origins, hosts: set[str], groups: set[str]) -> None:
    """host_vars/<name> or group_vars/<name> for a host or group the inventory does not have (a
    typo): Ansible ignores it silently, and the host it was meant for gets none of its controls."""
    for (kind, name), entry in sorted(origins.subjects.items()):
        if name not in (hosts if kind == "host" else groups):
            known = sorted(hosts if kind == "host" else groups)
            shown = ", ".join(known[:10]) + (f" ... ({len(known)})" if len(known) > 10 else "")
            raise UserError(f"{entry}: {kind} {name}: no such {kind} in the inventory, so these variables apply to "
                            f"nothing; expected one of: {shown}")


def _not_a_file(entry: Path, kind: str, name: str) -> None:
    """A FIFO, device or dangling link where a vars file belongs: reading it could block or never
    end (a link to /dev/zero), so it is refused before anything reads it."""
    what = "a dangling link" if entry.is_symlink() and not entry.exists() else "not a regular file"
    raise UserError(f"{entry}: {kind} {name}: {what}; expected a YAML vars file")


def _vars_file(entry: Path) -> bool:
    return not entry.name.startswith(".") and (entry.suffix in YAML_SUFFIXES or entry.suffix == "")


def _scan_vars_dir(folder: Path, kind: str, have_vault: bool, origins: Origins, decrypt=None) -> None:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        name = entry.name[: -len(entry.suffix)] if entry.suffix in YAML_SUFFIXES else entry.name
        subject = (kind, name)
        origins.subjects.setdefault(subject, str(entry))
        if entry.is_dir():
            if entry.suffix in YAML_SUFFIXES:
                raise UserError(f"{entry}: a directory where a vars file is expected ({kind} {name}); "
                                f"expected a YAML file {entry.name} or a directory {name}/ of vars files")
            found = 0
            for sub in sorted(entry.rglob("*")):
                rel = sub.relative_to(entry)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if sub.is_dir() and sub.suffix in YAML_SUFFIXES:
                    raise UserError(f"{sub}: a directory where a vars file is expected ({kind} {name}); "
                                    "expected a YAML file")
                if sub.is_file() and _vars_file(sub):
                    _scan_file(sub, subject, have_vault, origins, decrypt)
                    found += 1
                elif not sub.is_file() and not sub.is_dir():
                    _not_a_file(sub, kind, name)
            if not found:
                raise UserError(f"{entry}/: {kind} {name}: no vars file in this directory (expected files "
                                "ending in .yml, .yaml or .json)")
        elif entry.is_file() and _vars_file(entry):
            _scan_file(entry, subject, have_vault, origins, decrypt)
        elif not entry.is_file():
            _not_a_file(entry, kind, name)


def _scan_file(path: Path, subject: tuple[str, str] | None, have_vault: bool, origins: Origins,
               decrypt=None) -> None:
    origin = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(safe_yaml.MAX_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{origin}: cannot read: {exc.strerror}") from None
    vaulted = data.lstrip().startswith(b"$ANSIBLE_VAULT")
    if vaulted:
        if not have_vault:
            who = f" ({subject[0]} {subject[1]})" if subject else ""
            raise UserError(f"{origin}{who}: encrypted with ansible-vault, but no vault password was given "
                            f"({VAULT_OPTIONS})")
        if decrypt is None:
            return
        # The plain text is checked like any file (a bomb does not become harmless by encryption);
        # Ansible decrypts it again itself.
        data = decrypt(data, origin)
        if len(data) > safe_yaml.MAX_BYTES:
            raise UserError(f"{origin}: {len(data)} bytes decrypted is too large")
    who = f"{subject[0]} {subject[1]}: " if subject else ""
    text = ""
    try:
        text = safe_yaml.decode(data, origin)
        safe_yaml.check_size(text, origin)
        if subject is not None and not vaulted and not text.lstrip().startswith(("{", "[")):
            # Plain data, the vars files people write: read once, into its value (_plain_yaml
            # refuses what safe_yaml.check_node refuses, and aliases, so it is no alias bomb);
            # the nodes (where each variable is written) are composed only when a message needs
            # them. Anything else, and a file with a problem, is composed and checked (the message).
            with contextlib.suppress(ValueError, TypeError, yaml.YAMLError, _NotPlain):
                value = _plain_value(text)
                origins.files.setdefault(subject, {}).update(
                    (key, (origin, None, None)) for key in value or {} if key.startswith(PREFIX))
                origins.parsed[os.path.realpath(path)] = value
                if not any(_holds_ivpb(v) for k, v in (value or {}).items() if not k.startswith(PREFIX)):
                    return
                # an ivpb_* variable nested under another one: composed again, for its line
        node = safe_yaml.compose(text, origin)
    except safe_yaml.YamlError as exc:
        variable = safe_yaml.variable_at(text, exc.line)
        raise UserError(f"{exc.location}: {who}{f'{variable}: ' if variable else ''}{exc.problem}") from None
    if subject is None:
        _scan_inventory_file(node, origin, origins)
    else:
        if node is not None and not isinstance(node, safe_yaml.yaml.MappingNode):
            raise UserError(f"{safe_yaml.where(origin, node.start_mark)}: {who}a vars file is a mapping of "
                            "variable names to values")
        keys = origins.files.setdefault(subject, {})
        if isinstance(node, safe_yaml.yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, safe_yaml.yaml.ScalarNode) and k.value.startswith(PREFIX):
                    keys[k.value] = (origin, k, v)
            _nested(node, origin, subject, origins)
        # The vars plugin's loader takes the value from here (each file is read once); what is
        # not plain is left to Ansible's own loader.
        if not vaulted:
            with contextlib.suppress(ValueError, TypeError, yaml.YAMLError, _NotPlain):
                origins.parsed[os.path.realpath(path)] = _plain_value(text, node)


def _holds_ivpb(value: Any) -> bool:
    """Is value (plain data or a YAML node) a mapping with an ivpb_* key?"""
    if isinstance(value, safe_yaml.yaml.MappingNode):
        return any(isinstance(k, safe_yaml.yaml.ScalarNode) and k.value.startswith(PREFIX) for k, _ in value.value)
    return isinstance(value, dict) and any(str(k).startswith(PREFIX) for k in value)


def _nested(node: Any, origin: str, subject: tuple[str, str], origins: Origins) -> None:
    """ivpb_* variables written inside another variable of a host's or group's variables (an
    extra `vars:` under a host of a YAML inventory, a host_vars file that repeats the host's name
    as its first key, one indentation level too deep): Ansible reads them as part of that other
    variable, so no role and no check ever sees them."""
    for k, v in node.value if isinstance(node, safe_yaml.yaml.MappingNode) else ():
        if isinstance(k, safe_yaml.yaml.ScalarNode) and not k.value.startswith(PREFIX) and _holds_ivpb(v):
            for inner, _ in v.value:
                if isinstance(inner, safe_yaml.yaml.ScalarNode) and inner.value.startswith(PREFIX):
                    origins.misplaced.append(Problem(
                        f"{subject[0]} {subject[1]}", inner.value,
                        f"written inside the variable {k.value!r}, so Ansible gives it to no host and no role "
                        f"or check sees it; expected {inner.value} one level up, next to {k.value!r}",
                        where=safe_yaml.where(origin, inner.start_mark)))


_GROUP_KEYS = ("vars", "children", "hosts")


def _scan_inventory_file(node: Any, origin: str, origins: Origins) -> None:
    """A YAML inventory file: where it gives its groups (`vars:`) and hosts their variables
    inline, recorded as for group_vars/ and host_vars/ (a vars file there wins: Ansible's
    precedence), and the ivpb_* variables it writes where Ansible skips them (directly under a
    group, or under a misspelt `vars:`/`hosts:`/`children:`) as misplaced."""
    for k, group in node.value if isinstance(node, safe_yaml.yaml.MappingNode) else ():
        if isinstance(k, safe_yaml.yaml.ScalarNode):
            _scan_inventory_group(str(k.value), group, origin, origins)


def _scan_inventory_group(name: str, node: Any, origin: str, origins: Origins) -> None:
    if not isinstance(node, safe_yaml.yaml.MappingNode):
        return
    for k, v in node.value:
        key = k.value if isinstance(k, safe_yaml.yaml.ScalarNode) else None
        if key == "vars":
            _record_inline(("group", name), v, origin, origins)
        elif key in ("children", "hosts") and isinstance(v, safe_yaml.yaml.MappingNode):
            for item, value in v.value:
                if not isinstance(item, safe_yaml.yaml.ScalarNode):
                    continue
                if key == "children":
                    _scan_inventory_group(str(item.value), value, origin, origins)
                else:
                    _record_inline(("host", str(item.value)), value, origin, origins)
        elif key not in _GROUP_KEYS and (str(key).startswith(PREFIX) or _holds_ivpb(v)):
            if _holds_ivpb(v):
                variables = [str(i.value) for i, _ in v.value if str(i.value).startswith(PREFIX)]
                place = f"under {key!r}{did_you_mean(str(key), _GROUP_KEYS)}, a key Ansible skips"
            else:
                variables, place = [str(key)], f"directly under group {name}, where Ansible skips it"
            for variable in variables:
                origins.misplaced.append(Problem(
                    f"group {name}", variable,
                    f"written {place} (a group has only vars, children and hosts), so no host gets it; "
                    f"expected it under {name}: vars:",
                    where=safe_yaml.where(origin, k.start_mark)))


def _record_inline(subject: tuple[str, str], node: Any, origin: str, origins: Origins) -> None:
    if not isinstance(node, safe_yaml.yaml.MappingNode):
        return
    keys = origins.files.setdefault(subject, {})
    for k, v in node.value:
        if isinstance(k, safe_yaml.yaml.ScalarNode) and k.value.startswith(PREFIX):
            keys.setdefault(k.value, (origin, k, v))
    _nested(node, origin, subject, origins)


def _templated(value: Any) -> bool:
    """Does the value hold a Jinja2 template or a vaulted string (anything not plain data)?"""
    kind = type(value)  # the plain types first: their checks are the cheap ones
    if kind is str or isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    if kind is dict or isinstance(value, Mapping):
        return any(_templated(v) for v in value.values())
    if kind is list or isinstance(value, tuple | list):
        return any(_templated(v) for v in value)
    # Vaulted values: EncryptedString (2.19+), AnsibleVaultEncryptedUnicode (older).
    return "Encrypted" in type(value).__name__


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_plain(value: Any) -> bool:
    """Plain JSON types all the way down, as plain() makes them (not Ansible's tagged subclasses)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _is_plain(v) for k, v in value.items())
    if kind is list:
        return all(map(_is_plain, value))
    return kind in _PLAIN_SCALARS


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
