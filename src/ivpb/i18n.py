"""Report language: Dutch for the school by default, English on request."""

from __future__ import annotations

LANGS = ("nl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "stores": {"nl": "slaat {dataset} op ({levels})", "en": "stores {dataset} ({levels})"},
    "uses": {"nl": "gebruikt {dataset} ({levels})", "en": "uses {dataset} ({levels})"},
    "every_dataset": {"nl": "elke opgeslagen dataset", "en": "every stored data set"},
    "archived": {"nl": "wordt gearchiveerd", "en": "is archived"},
    "needs_internet": {"nl": "heeft internet nodig", "en": "needs internet"},
    "site_holds": {"nl": "{host} {reason}", "en": "{host} {reason}"},
    "site_receives": {
        "nl": "ontvangt {kind} van {dataset} ({host})",
        "en": "receives {kind} of {dataset} ({host})",
    },
    "kind_backup": {"nl": "backups", "en": "backups"},
    "kind_sync": {"nl": "synchronisatie", "en": "sync"},
    "and_more": {"nl": "en {n} meer", "en": "and {n} more"},
}


def t(key: str, lang: str = "nl", **kwargs: object) -> str:
    return MESSAGES[key][lang].format(**kwargs)
