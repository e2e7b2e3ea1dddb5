"""Rules two services apply and must apply alike."""


def passes_two_thirds(core: int, total: int) -> bool:
    """DESIGN §1: at least two thirds of a class's sessions are core-theory study. In integers
    (3 × core ≥ 2 × all) so that exactly two thirds passes; a class without sessions fails."""
    return total > 0 and 3 * core >= 2 * total


def core_sessions_missing(core: int, total: int) -> int:
    """How many core-theory sessions to add for the rule to hold (0 when it holds)."""
    return max(0, 2 * total - 3 * core)
