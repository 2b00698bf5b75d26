"""Rewrite the settings table in docs/configuration.md from meeting_notes.settings (run after adding a field).

    .venv/bin/python scripts/settings_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from meeting_notes.settings import PROJECT_ROOT, Settings

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def _default(field) -> str:
    if field.default_factory is not None:
        return "(see meeting_notes/settings/)"
    value = field.default
    if isinstance(value, Path):
        value = str(value).replace(str(PROJECT_ROOT), "<repo>").replace(str(Path.home()), "~")
    return f"`{value}`"


def rows(model: type[BaseModel], prefix: str = "MEETING_NOTES_") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += rows(ann, f"{prefix}{name.upper()}__")
        else:
            desc = (field.description or "").replace("|", "/")
            out.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {desc} |")
    return out


def table() -> str:
    """The settings table of docs/configuration.md, generated from the settings model."""
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows(Settings)])


DOC = PROJECT_ROOT / "docs" / "configuration.md"


def doc_with_table(text: str) -> str:
    """``text`` with the block between the settings-table markers replaced by :func:`table`."""
    return re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table()}\n{END}", text, flags=re.S)


def main() -> None:
    DOC.write_text(doc_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
