"""`ivpb herstelplan`: the recovery plan (herstelplan) from the inventory and the drill evidence.

Per site and host: which data sets, in which order (highest availability first, then
integrity), where each backup, yearly full and offsite copy lives, whether it is encrypted and
with which key and who holds it (ivpb_gpg_recipients.<name>.description), the exact `ivpb
restore` command, and the last restore drill with its measured RTO and RPO. Markdown by
default, HTML for FILE.html; Dutch by default, English with --lang en."""

from __future__ import annotations

import datetime as dt
import html
import shlex
import sys
from pathlib import Path
from typing import Any

from ivpb import drills, places, resolve
from ivpb.errors import UserError
from ivpb.i18n import span, t
from ivpb.inventory import Inventory, managed
from ivpb.output import write_file
from ivpb.plan import plan_inventory
from ivpb.policy import Policy
from ivpb.render.markdown import fenced, md
from ivpb.resolve import layout

AV_ORDER = {"noodzakelijk": 0, "belangrijk": 1, "laag": 2}


def _fpr(raw: Any) -> str:
    s = "".join(str(raw or "").split()).upper()
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def _where(copy: resolve.Copy | None, sub: str, lang: str) -> str | None:
    """host:path of one copy, with the target's name and the site it is at."""
    if copy is None or not copy.defined:
        return None
    at = copy.receiver or copy.address
    name, site = copy.target, copy.site
    label = t("herstelplan.target_at", lang, name=name, site=site) if site else t("herstelplan.target", lang, name=name)
    return f"{at}:{copy.folder}/{sub} ({label})"


def entries(inventory: Inventory, policy: Policy, lang: str) -> list[dict[str, Any]]:
    """One entry per stored data set of every host, in restore order."""
    plan = plan_inventory(inventory, policy)
    datasets = inventory.school("ivpb_datasets")
    all_drills = drills.indexed(inventory)
    out = []
    for host in sorted(inventory.chosen()):
        hv = inventory.hosts[host]
        # what the policy has backup_job do for each data set (enforced_by.duty): encrypt, sync
        planned = plan.duties(host)
        for store in resolve.stored(inventory, host):
            ds = store.dataset
            meta = datasets.get(ds) if isinstance(datasets.get(ds), dict) else {}
            biv = meta.get("biv") if isinstance(meta.get("biv"), dict) else {}
            # a system ivpb does not manage is restored as its declaration says, not by ivpb restore,
            # unless a backup proxy pulls the data set (#23): then from the proxy's area (its record)
            if not managed(hv) and not store.pull:
                out.append(places.declared_entry(host, hv, hv["ivpb_stores"][store.index], meta, biv))
                continue
            encrypted = store.encrypted(planned.get(ds, {}))
            history = all_drills.get((host, ds), [])
            out.append({
                "host": host, "site": hv.get("ivpb_site") or "?", "dataset": ds,
                "description": meta.get("description") or "", "biv": biv,
                "source": store.path, "target": store.backup.target if store.backup else None,
                "backup": _where(store.backup, layout.CHAIN, lang),
                "annual": _where(store.backup, f"{layout.ANNUAL}/<{t('herstelplan.school_year', lang)}>",
                                 lang) if meta.get("archive", True) is not False else None,
                "offsite": _where(store.sync, layout.SYNC, lang),
                "encrypted": encrypted, "keys": list(store.encrypt_to) if encrypted else [],
                "drill": history[-1] if history else None,
                **({"pulled_by": store.sender, "kind": hv.get("ivpb_system_kind", "?")} if store.pull else {}),
            })
    ladder_i = {"absoluut": 0, "vereist": 1, "laag": 2}
    out.sort(key=lambda e: (AV_ORDER.get(e["biv"].get("b"), 3), ladder_i.get(e["biv"].get("i"), 3), e["host"],
                            e["dataset"]))
    return out


def command(sources: list[str], e: dict[str, Any], extra: str = "") -> str:
    """The restore command, every value shell-quoted: a name is one word, never a second command."""
    inv = " ".join(f"-i {shlex.quote(s)}" for s in sources)
    to = shlex.quote(f"/herstel/{e['host']}-{e['dataset']}")
    return f"ivpb restore {inv} --host {shlex.quote(e['host'])} --dataset {shlex.quote(e['dataset'])} " \
           f"--to {to}{(' ' + extra) if extra else ''}"


def _drill_text(d: dict[str, Any] | None, lang: str) -> str:
    if not d:
        return t("herstelplan.no_drill", lang)
    return t("herstelplan.drill_line", lang, when=d.get("started", "?"), result=drills.result_text(d, lang),
             rto=span(d.get("rto_seconds"), lang), rpo=span(d.get("rpo_seconds"), lang),
              files=d.get("files_checked", 0), by=d.get("by", "?"))


def _contacts(inventory: Inventory, lang: str) -> list[tuple]:
    """Who to call (ivpb_contacts), first: in an emergency the plan is read from the top."""
    contacts = inventory.school("ivpb_contacts")
    rows = [[c.get("name") or key, c.get("role") or "", c.get("phone") or "-", c.get("mail") or "-",
             c.get("hours") or "-"] for key, c in sorted(contacts.items()) if isinstance(c, dict)]
    if not rows:
        return [("h2", t("herstelplan.contacts_h", lang)), ("p", t("herstelplan.no_contacts", lang))]
    return [("h2", t("herstelplan.contacts_h", lang)), ("table", t("herstelplan.contacts_cols", lang), rows)]


def _targets(policy: Policy, es: list[dict[str, Any]], lang: str) -> list[tuple]:
    """The policy's recovery targets per availability level (its `recovery`, its own words), the
    highest level first, each with the data sets of this plan at that level."""
    head = [("h2", t("herstelplan.targets_h", lang))]
    if not policy.recovery:
        return [*head, ("p", t("herstelplan.no_targets", lang))]
    rows = [[level, words["rpo"], words["rto"],
             ", ".join(f"{e['host']}/{e['dataset']}" for e in es if e["biv"].get("b") == level) or "-"]
            for level in reversed(policy.ladders["b"]) if (words := policy.recovery.get(level))]
    return [*head, ("p", t("herstelplan.targets_intro", lang, policy=policy.title)),
            ("table", t("herstelplan.targets_cols", lang), rows)]


def _target_text(policy: Policy, level: str | None, lang: str) -> str:
    words = policy.recovery.get(level or "")
    if not words:
        return t("herstelplan.no_target_level", lang, b=level or "?")
    return t("herstelplan.target_line", lang, rpo=words["rpo"], rto=words["rto"])


def build(inventory: Inventory, policy: Policy, sources: list[str], lang: str, now: dt.datetime) -> list[tuple]:
    """The plan as blocks: ("h1"|"h2"|"h3"|"h4", text), ("p", text), ("ol", [text]), ("table", cols,
    rows), ("dl", [(term, text)]), ("code", text)."""
    es = entries(inventory, policy, lang)
    recipients = inventory.school("ivpb_gpg_recipients")
    sites = inventory.school("ivpb_sites")
    intro = t("herstelplan.intro", lang, now=now.strftime("%Y-%m-%d %H:%M"), inv=", ".join(sources))
    blocks: list[tuple] = [("h1", t("herstelplan.title", lang)), ("p", intro), *_contacts(inventory, lang),
                           ("h2", t("herstelplan.steps_h", lang)), ("ol", t("herstelplan.steps", lang)),
                           *_targets(policy, es, lang)]
    blocks += [("h2", t("herstelplan.order_h", lang)),
               ("table", t("herstelplan.order_cols", lang),
                [[str(i), e["host"], e["dataset"], "/".join(str(e["biv"].get(a, "?")) for a in "biv"), e["site"],
                  t("herstelplan.declared_drill", lang) if "declared" in e else _drill_text(e["drill"], lang)]
                 for i, e in enumerate(es, 1)])]
    blocks.append(("h2", t("herstelplan.keys_h", lang)))
    used = sorted({k for e in es for k in e["keys"]})
    if used:
        rows = []
        for name in used:
            r = recipients.get(name) or {}
            holder = r.get("description") or t("herstelplan.unknown_holder", lang, name=name)
            rows.append([name, _fpr(r.get("fingerprint")), holder,
                         ", ".join(f"{e['host']}/{e['dataset']}" for e in es if name in e["keys"])])
        blocks.append(("table", t("herstelplan.keys_cols", lang), rows))
    else:
        blocks.append(("p", t("herstelplan.no_keys", lang)))

    def holders(e: dict[str, Any]) -> str:
        return "; ".join(f"{n}: {(recipients.get(n) or {}).get('description') or n}" for n in e["keys"]) \
            or t("herstelplan.plain", lang)

    # every system with where its data lives, who restores it, from where, with which key or account
    blocks += [("h2", t("herstelplan.systems_h", lang)), places.systems(es, holders, lang),
               *places.nowhere(plan_inventory(inventory, policy), inventory, lang)]
    order = {id(e): i for i, e in enumerate(es, 1)}
    for site in sorted({e["site"] for e in es}, key=lambda s: min(order[id(e)] for e in es if e["site"] == s)):
        desc = (sites.get(site) or {}).get("description") if isinstance(sites.get(site), dict) else None
        blocks.append(("h2", t("herstelplan.site_h", lang, site=site) + (f" ({desc})" if desc else "")))
        mine = [e for e in es if e["site"] == site]
        for host in sorted({e["host"] for e in mine}, key=lambda h: min(order[id(e)] for e in mine if e["host"] == h)):
            blocks.append(("h3", t("herstelplan.host_h", lang, host=host)))
            for e in (x for x in mine if x["host"] == host):
                blocks.append(("h4", t("herstelplan.ds_h", lang, n=order[id(e)], ds=e["dataset"])))
                if "declared" in e:
                    blocks.append(("dl", places.declared_items(e, lang)))
                    continue
                if e["encrypted"]:
                    key = "; ".join(
                        t("herstelplan.held_by", lang, name=n, fpr=_fpr((recipients.get(n) or {}).get("fingerprint")),
                           holder=(recipients.get(n) or {}).get("description")
                           or t("herstelplan.unknown_holder", lang, name=n)) for n in e["keys"])
                else:
                    key = t("herstelplan.plain", lang)
                items = [
                    (t("herstelplan.description", lang), e["description"] or "-"),
                    (t("herstelplan.biv", lang), ", ".join(f"{a}={e['biv'].get(a, '?')}" for a in "biv")),
                    (t("herstelplan.source", lang), f"{e['host']}:{e['source']}"),
                    (t("herstelplan.backup", lang), e["backup"] or t("herstelplan.no_target", lang)),
                    (t("herstelplan.annual", lang), e["annual"] or t("herstelplan.no_annual", lang)),
                    (t("herstelplan.offsite", lang), e["offsite"] or t("herstelplan.no_offsite", lang)),
                    (t("herstelplan.key", lang), key),
                    (t("herstelplan.recovery_target", lang), _target_text(policy, e["biv"].get("b"), lang)),
                    (t("herstelplan.drill", lang), _drill_text(e["drill"], lang)),
                ]
                blocks.append(("dl", items))
                cmds = [f"# {t('herstelplan.command', lang)}", command(sources, e)]
                if e["annual"]:
                    year = now.year if now.month >= 9 else now.year - 1
                    cmds += [f"# {t('herstelplan.command_annual', lang)}",
                             command(sources, e, f"--school-year {year}-{year + 1}")]
                if e["offsite"]:
                    cmds += [f"# {t('herstelplan.command_offsite', lang)}", command(sources, e, "--offsite")]
                blocks.append(("code", "\n".join(cmds)))
    return blocks


def markdown(blocks: list[tuple]) -> str:
    """Every text through the audit report's escaping (render.markdown: md, fenced): the inventory
    and the drill files hold the values, and none may make a link, a tag or a code block."""
    out = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3", "h4"):
            out.append("#" * int(kind[1]) + " " + md(b[1]))
        elif kind == "p":
            out.append(md(b[1]))
        elif kind == "ol":  # the catalogue's steps alone, with their `code` spans
            out.append("\n".join(f"{i}. {s}" for i, s in enumerate(b[1], 1)))
        elif kind == "table":
            out.append("\n".join(["| " + " | ".join(map(md, b[1])) + " |", "|" + "---|" * len(b[1])]
                                 + ["| " + " | ".join(md(str(c)) for c in row) + " |" for row in b[2]]))
        elif kind == "dl":
            out.append("\n".join(f"- **{md(term)}**: {md(str(text))}" for term, text in b[1]))
        elif kind == "code":
            out.append(fenced(b[1], "sh"))
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """HTML of a catalogue line with `code` spans (never a value: its backticks would make one)."""
    parts = str(text).split("`")
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def to_html(blocks: list[tuple], lang: str) -> str:
    body = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3", "h4"):
            body.append(f"<{kind}>{html.escape(b[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(b[1])}</p>")
        elif kind == "ol":
            body.append("<ol>" + "".join(f"<li>{_inline(s)}</li>" for s in b[1]) + "</ol>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(c)}</th>" for c in b[1])
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in b[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "dl":
            body.append("<dl>" + "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(str(x))}</dd>"
                                         for term, x in b[1]) + "</dl>")
        elif kind == "code":
            body.append(f"<pre><code>{html.escape(b[1])}</code></pre>")
    title = html.escape(blocks[0][1])
    # On A4 nothing is cut: commands and long paths wrap (pre-wrap, break anywhere), tables keep to
    # the page's width, a data set's facts and its commands stay on one page where they fit.
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top;"
             "overflow-wrap:anywhere}dt{font-weight:bold}dd{overflow-wrap:anywhere}"
             "pre{background:#f4f4f4;padding:.5em;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}"
             "@page{size:A4;margin:15mm}"
             "@media print{body{max-width:none;margin:0;font-size:10pt}table{width:100%}"
             "pre{overflow:visible;border:1px solid #999;font-size:8.5pt}"
             "h1,h2,h3,h4{break-after:avoid}pre,dl,tr{break-inside:avoid}}")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def render(inventory: Inventory, policy: Policy, sources: list[str], lang: str = "nl", fmt: str = "markdown",
           now: dt.datetime | None = None) -> str:
    blocks = build(inventory, policy, sources, lang, now or dt.datetime.now(dt.UTC))
    return to_html(blocks, lang) if fmt == "html" else markdown(blocks)


def main(args) -> int:
    from ivpb.inventory import load_inventory
    from ivpb.policy import load_policy
    from ivpb.shopping import validation

    fmt = "markdown"
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix not in (".md", ".html", ".htm"):
            raise UserError(f"--output {args.output}: expected FILE.md or FILE.html")
        fmt = "html" if suffix in (".html", ".htm") else "markdown"
    policy = load_policy(args.policy)
    inventory = load_inventory(args.inventory, args.vault, args.limit)
    problems = validation(inventory, policy)
    if problems:
        raise UserError("invalid inventory", problems)
    text = render(inventory, policy, list(args.inventory), args.lang, fmt)
    if args.output:
        write_file(Path(args.output), text)
        print(f"ivpb herstelplan: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
