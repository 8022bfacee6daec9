"""The README and docs/ point only at what the repository holds.

Why: the README once linked to files outside the repository (../shared/…), which nobody who
cloned it had. These tests fail when a markdown link `](path)` in README.md or docs/*.md names a
file that does not exist, or one outside the repository, and when the docs name a
`partnerbot <subcommand>` that the CLI's parser (bot/cli.py) does not know.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target) or [text](target "title"); an image ![alt](target) too
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:…
# `partnerbot serve`, `.venv/bin/partnerbot db upgrade`, not `partnerbot.db` or `…/partnerbot`
# at the end of a database URL
_COMMAND = re.compile(r"(?<![\w.-])partnerbot[ \t]+([a-z][\w-]*)(?:[ \t]+([a-z][\w-]*))?")


_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped, blanks → '-'."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in _HEADING.findall(text)}


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _without_code(text: str) -> str:
    """The prose of a page: a link written inside code is an example, not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _code(text: str) -> list[str]:
    """The code of a page: fenced blocks and inline spans, where commands are written."""
    blocks = [m.group(0) for m in _FENCE.finditer(text)]
    spans = [m.group(2) for m in _CODE_SPAN.finditer(_FENCE.sub("", text))]
    return blocks + spans


def _choices(*argv: str) -> set[str]:
    """The subcommands the parser offers after `argv`, read from its own help (no process)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    usage = out.getvalue().split("\n\n", 1)[0]
    found = re.search(r"\{([\w,-]+)\}", usage)
    return set(found.group(1).split(",")) if found else set()


def test_the_docs_exist():
    assert {p.name for p in DOCS} >= {"user-guide.md", "operator-guide.md", "architecture.md"}


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_links_point_at_files_in_the_repository(page: Path):
    broken = []
    for target in _LINK.findall(_without_code(page.read_text(encoding="utf-8"))):
        if _EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path.split("?", 1)[0]).resolve() if path else page
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading makes #{anchor}")
    assert not broken, f"{_page_id(page)} links to " + "; ".join(broken)


@pytest.mark.parametrize("page", DOCS, ids=_page_id)
def test_partnerbot_subcommands_named_in_the_docs_exist(page: Path):
    commands = _choices()
    nested = {name: _choices(name) for name in commands}
    unknown = set()
    for code in _code(page.read_text(encoding="utf-8")):
        for name, second in _COMMAND.findall(code):
            if name not in commands:
                unknown.add(f"partnerbot {name}")
            elif second and nested[name] and second not in nested[name]:
                unknown.add(f"partnerbot {name} {second}")
    assert not unknown, (f"{_page_id(page)} names {', '.join(sorted(unknown))}, which `partnerbot --help` does "
                         f"not list (it has {', '.join(sorted(commands))})")


def test_the_link_check_finds_links_and_skips_code():
    text = "See [the guide](docs/x.md#top) and ![logo](../logo.png).\n`[not](a-link.md)`\n```\n[no](b.md)\n```\n"
    assert _LINK.findall(_without_code(text)) == ["docs/x.md#top", "../logo.png"]


def test_the_subcommand_check_reads_the_parser():
    """The check above is only as good as the list it compares with."""
    commands = _choices()
    assert {"serve", "console", "tick", "db", "org"} <= commands
    assert _choices("db") == {"upgrade"}
    assert _choices("org") == {"import", "export"}
    assert _COMMAND.findall("run `.venv/bin/partnerbot db upgrade` then partnerbot.db") == [("db", "upgrade")]
