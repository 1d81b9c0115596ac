"""Report language: Dutch for the school by default, English on request.

Every word ivpb writes for a reader is in one catalogue per language, ``words/nl.yml`` and
``words/en.yml``, under an id ("section.name"). ``t(id, lang, **params)`` looks one up and fills
in its parameters. The engine (the plan's reasons, the audit's findings) does not write text: it
hands out ``Message``s, an id with its parameters, which the reports and the CLI write in the
reader's language (``Message.text``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import yaml

LANGS = ("nl", "en")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}: expected 'nl' or 'en'")
    return lang


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """id -> text (or list of texts) in lang, read once."""
    text = resources.files("ivpb").joinpath("words", f"{check_lang(lang)}.yml").read_text(encoding="utf-8")
    out: dict[str, Any] = {}
    for section, entries in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)).items():
        if isinstance(entries, dict):
            out.update({f"{section}.{name}": value for name, value in entries.items()})
        else:
            out[section] = entries
    return out


def t(id: str, lang: str = "nl", **params: Any) -> Any:
    """The words of id in lang, with params filled in ({name}). A parameter that is a Message is
    written in lang first, a tuple of Messages as a list ('a, b'), a timedelta as a duration."""
    text = catalogue(lang)[id]
    if not params:
        return text
    return text.format(**{k: _param(v, lang) for k, v in params.items()})


def _param(value: Any, lang: str) -> Any:
    if isinstance(value, Message | Span):
        return value.text(lang)
    if isinstance(value, dt.timedelta):
        return duration(value, lang)
    if isinstance(value, tuple) and value and all(isinstance(v, Message) for v in value):
        return ", ".join(v.text(lang) for v in value)
    return value


def section(name: str, lang: str) -> dict[str, Any]:
    """name -> words of one section ("report" -> {"report_title": ..., ...}), for templates."""
    prefix = name + "."
    return {k[len(prefix) :]: v for k, v in catalogue(lang).items() if k.startswith(prefix)}


class Message(NamedTuple):  # a tuple: hashed and compared in C, as the audit's caches key on it
    """Words not yet written: a catalogue id and its parameters (strings, numbers or Messages)."""

    id: str
    params: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str) -> str:
        return t(self.id, lang, **dict(self.params))


@dataclass(frozen=True, slots=True)
class Span:
    """A measured duration (seconds) as a Message's parameter, written with span() in the
    reader's language; with days, one of a day or more as whole days ('3 d')."""

    seconds: Any
    days: bool = False

    def text(self, lang: str) -> str:
        if self.days and isinstance(self.seconds, int | float) and abs(self.seconds) >= 86400:
            return f"{dt.timedelta(seconds=self.seconds).days} {t('span.day', lang)}"
        return span(self.seconds, lang)


def msg(id: str, **params: Any) -> Message:
    return Message(id, tuple(params.items()))


def joined(messages: tuple[Message, ...] | list[Message], lang: str, total: int | None = None) -> str:
    """'a; b; c; and 2 more': the messages in lang, and how many more there were in all."""
    text = "; ".join(m.text(lang) for m in messages)
    more = (len(messages) if total is None else total) - len(messages)
    return f"{text}; {t('plan.and_more', lang, n=more)}" if more > 0 else text


def span(seconds: Any, lang: str) -> str:
    """A measured duration (a restore's RTO, a data age): '1 d 3 u', '2 u 5 min', '4 min 12 s',
    '9 s' in Dutch, with 'h' for hours in English; '?' when it is not a finite number (a drill
    file or a host may hold NaN or Infinity, which Python's json reads)."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) \
            or (isinstance(seconds, float) and not math.isfinite(seconds)):
        return "?"
    s = int(round(seconds))
    day, hour = t("span.day", lang), t("span.hour", lang)
    minute, second = t("span.minute", lang), t("span.second", lang)
    if s >= 86400:
        return f"{s // 86400} {day} {s % 86400 // 3600} {hour}"
    if s >= 3600:
        return f"{s // 3600} {hour} {s % 3600 // 60} {minute}"
    if s >= 60:
        return f"{s // 60} {minute} {s % 60} {second}"
    return f"{s} {second}"


def duration(delta: dt.timedelta, lang: str) -> str:
    """How old or how far off a timestamp is, to the minute: '3 d 4 u', '27 u', '2 u 15 min',
    '12 min' ('h' for hours in English); days from three days on."""
    minutes = int(abs(delta.total_seconds()) // 60)
    day, hour, minute = t("span.day", lang), t("span.hour", lang), t("span.minute", lang)
    if minutes >= 72 * 60:
        hours = minutes % 1440 // 60
        return f"{minutes // 1440} {day}" + (f" {hours} {hour}" if hours else "")
    if minutes >= 60:
        return f"{minutes // 60} {hour}" + (f" {minutes % 60} {minute}" if minutes % 60 else "")
    return f"{minutes} {minute}"
