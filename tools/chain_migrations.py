"""Keep the Alembic history linear after merging branches: each migration file 00NN_* revises the previous one.

    python tools/chain_migrations.py   # rewrites down_revision in migrations/versions by file-name order
"""
import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def main() -> None:
    previous = None
    for path in sorted(VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")):
        text = path.read_text()
        revision = re.search(r"^revision = ['\"]([^'\"]+)['\"]", text, re.M).group(1)
        wanted = f"down_revision = {previous!r}" if previous else "down_revision = None"
        text = re.sub(r"^down_revision = .*$", wanted, text, count=1, flags=re.M)
        text = re.sub(r"^Revises: .*$", f"Revises: {previous or ''}", text, count=1, flags=re.M)
        path.write_text(text)
        print(f"{path.name}: {revision} <- {previous}")
        previous = revision


if __name__ == "__main__":
    main()
