"""What a fault run found, counted against the harness's own ground truth."""

from dataclasses import dataclass, field


@dataclass
class Outcome:
    scenario: str
    events: int                    # events the harness published (good and bad)
    lost: int                      # expected effects missing from the services' databases
    doubled: int                   # effects found more than once (or counted twice)
    dead_letters: int = 0          # bad messages found in peixun.dead_letters, with a reason
    dead_letters_expected: int = 0  # bad messages the harness published
    problems: list[str] = field(default_factory=list)   # anything else that went wrong

    @property
    def passed(self) -> bool:
        return (self.lost == 0 and self.doubled == 0 and not self.problems
                and self.dead_letters == self.dead_letters_expected)

    def line(self) -> str:
        return (f"CHAOS {self.scenario} events={self.events} lost={self.lost} "
                f"doubled={self.doubled} "
                f"dead_letters={self.dead_letters}/{self.dead_letters_expected} "
                f"{'PASS' if self.passed else 'FAIL'}")
