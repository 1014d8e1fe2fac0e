"""Keep the Chinese catalog in step with the code.

    python tools/i18n.py extract   # refresh messages.pot and merge new msgids into zh/messages.po
    python tools/i18n.py compile   # messages.po -> messages.mo
    python tools/i18n.py check     # fail if a msgid in the code has no Chinese translation
    python tools/i18n.py translate < pairs.tsv   # extract, then set 'msgid<TAB>译文' lines, then compile
"""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHOD_MAP = [
    ("app/**.py", "python"), ("models/**.py", "python"), ("views/**.py", "python"),
    ("custom_fields/**.py", "python"), ("app/templates/**.html", "jinja2"),
]


def code_catalog() -> Catalog:
    catalog = Catalog(locale=None)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map=METHOD_MAP, keywords=KEYWORDS, comment_tags=()
    ):
        catalog.add(message, None, [(filename, lineno)])
    return catalog


def load_po() -> Catalog:
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh")


def extract() -> None:
    template = code_catalog()
    with (TRANSLATIONS / "messages.pot").open("wb") as handle:
        write_po(handle, template, omit_header=True, no_location=True, sort_output=True)
    PO.parent.mkdir(parents=True, exist_ok=True)
    catalog = load_po() if PO.exists() else Catalog(locale="zh")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    with PO.open("wb") as handle:
        write_po(handle, catalog, no_location=True, sort_output=True, ignore_obsolete=True)


def compile_mo() -> None:
    catalog = load_po()
    with MO.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


def missing() -> list[str]:
    catalog = load_po()
    gaps = []
    for message in code_catalog():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        text = entry.string if entry is not None else None
        if not text or (isinstance(text, tuple) and not all(text)) or (entry is not None and entry.fuzzy):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def translate(pairs: str) -> None:
    """Set the Chinese text of msgids given as 'msgid<TAB>译文' lines (a msgid not in the code is refused)."""
    catalog = load_po()
    for line in pairs.splitlines():
        if not line.strip():
            continue
        msgid, _, text = line.partition("\t")
        entry = catalog.get(msgid)
        if entry is None or not text:
            raise SystemExit(f"not in the code, or no translation given: {msgid!r}")
        entry.string = text
        entry.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, no_location=True, sort_output=True, ignore_obsolete=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "extract":
        extract()
    elif command == "compile":
        compile_mo()
    elif command == "translate":
        extract()
        translate(sys.stdin.read())
        compile_mo()
    elif command == "check":
        gaps = missing()
        for gap in gaps:
            print(f"untranslated: {gap}")
        return 1 if gaps else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
