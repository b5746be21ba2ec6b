"""``Config``, ``ConfigSection`` and ``ConfigOption``: the running configuration.

Secret options (``fernet_key``, ``sql_alchemy_conn``, ``secret_key``, ...) are shown as
``< hidden >``, whatever ``[webserver] expose_config`` says: Airflow shows them when it
is ``True`` and hides them only for ``non-sensitive-only``; Tradewind never shows them.
"""

from __future__ import annotations

from collections.abc import Iterable

from tradewind.api.schemas.base import ResponseBody
from tradewind.config import OptionValue

HIDDEN = "< hidden >"


class ConfigOption(ResponseBody):
    key: str
    value: str

    @classmethod
    def from_option(cls, option: OptionValue) -> ConfigOption:
        return cls(key=option.key, value=HIDDEN if option.secret else option.text)


class ConfigSection(ResponseBody):
    name: str
    options: list[ConfigOption]


class Config(ResponseBody):
    sections: list[ConfigSection]

    @classmethod
    def from_options(cls, options: Iterable[OptionValue]) -> Config:
        """The options grouped by section, in the order they come."""
        sections: dict[str, list[ConfigOption]] = {}
        for option in options:
            sections.setdefault(option.section, []).append(ConfigOption.from_option(option))
        return cls(sections=[ConfigSection(name=n, options=o) for n, o in sections.items()])

    def as_text(self) -> str:
        """INI text, as Airflow's ``text/plain`` answer: ``[core]\\nkey = value\\n``..."""
        return "\n".join(
            f"[{section.name}]\n"
            + "".join(f"{option.key} = {option.value}\n" for option in section.options)
            for section in self.sections
        )
