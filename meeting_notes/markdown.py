"""Text from a recording or an LLM, made inert in Markdown and WebVTT.

A transcript or a model can say anything, including ``[click](http://x)``, ``![](http://x/t.gif)``
or ``<script>``; Markdown viewers (Prefect's UI, an editor's preview, a CRM's rich text) would
render those as links, remote images or HTML. :func:`escape_markdown` backslash-escapes the
characters that start links, images, autolinks, HTML, code spans and table cells (emphasis is
left alone: it changes how words look, not what a click does), so the words still read as
said; :func:`escape_vtt` does what the WebVTT spec asks of cue text.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`\[\]<>|!])")
#: bare URLs that GFM renderers link by themselves ("extended autolinks"): the ':' of
#: ``scheme://`` and the '.' of ``www.`` are escaped, which stops the autolink and renders the same
_BARE_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)|\b(www)\.")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by any CommonMark/GFM renderer (no links, images, HTML, code,
    no autolinked bare URLs)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))
    return _BARE_URL.sub(lambda m: f"{m.group(1)}\\:" if m.group(1) else f"{m.group(2)}\\.", escaped)


_BLOCK_START = re.compile(r"^(#|=|-|\+|\*|_|~|\d{1,9}(?=[.)]))")


def escape_markdown_block(text: str) -> str:
    """:func:`escape_markdown`, also safe at the start of a line or list item: a leading ``#``
    (heading), list, rule or fence marker is escaped and leading spaces (an indented code
    block) are dropped, so the text stays one paragraph."""
    escaped = escape_markdown(text).lstrip()
    m = _BLOCK_START.match(escaped)
    if not m:
        return escaped
    if m.group(1)[0].isdigit():  # "1." / "1)": escape the delimiter after the number
        return f"{escaped[: m.end()]}\\{escaped[m.end():]}"
    return f"\\{escaped}"


def escape_vtt(text: str) -> str:
    """Cue text with ``&``, ``<`` and ``>`` as entities (no injected cue tags or voice spans)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
