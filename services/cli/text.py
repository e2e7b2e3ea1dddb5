"""How the command line fits a long text (a reason, an error) on one line of a listing."""


def short(text: str | None, width: int) -> str:
    """One line of at most `width` characters, "…" where it was cut; "-" for nothing."""
    text = (text or "-").replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"
