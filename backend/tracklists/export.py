"""The site's own plain-text export of a tracklist, reproduced byte for byte.

Format (from the saved export of a real page): the title line, a blank line, one line per main row
(``[mm:ss]`` / ``[h:mm:ss]`` cue, ``Artist - Title (Remix) [LABEL/LABEL]``), ``w/ ...`` lines for rows played
together with the previous one (never with a cue), a blank line and the backlink line. CRLF line ends and no
newline after the backlink, exactly as the site serves it. Mashup components are not listed.
"""

from __future__ import annotations

from backend.tracklists.model import Entry, TracklistPage

NEWLINE = "\r\n"
BACKLINK = "Please set a backlink to keep the tracklist up-to-date: "
SHORT_URL = "https://1001.tl/"


def format_cue(seconds: float) -> str:
    """``mm:ss`` below an hour, ``h:mm:ss`` from an hour on (the site's two cue styles)."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def entry_line(entry: Entry) -> str:
    """One export line for ``entry``."""
    text = entry.display
    if entry.label:
        text = f"{text} [{entry.label}]"
    if entry.with_previous:
        return f"w/ {text}"
    # Rows without a known cue have no time prefix (the site has nothing to print there).
    if entry.cue_s is None:
        return text
    return f"[{format_cue(entry.cue_s)}] {text}"


def export_text(page: TracklistPage) -> str:
    """The plain-text export of ``page``."""
    lines = [page.title, ""]
    named = len(page.timelines) > 1 or any(t.name for t in page.timelines)
    for index, timeline in enumerate(page.timelines):
        if named and timeline.name:
            if index:
                lines.append("")
            lines.append(timeline.name)
        lines.extend(entry_line(e) for e in timeline.entries)
    lines.append("")
    link = SHORT_URL + page.short_id if page.short_id else (page.url or "")
    lines.append(BACKLINK + link)
    return NEWLINE.join(lines)
