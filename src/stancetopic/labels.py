"""The label sets, defined once so fixtures, heads, reports and the CLI agree."""

STANCES: tuple[str, ...] = ("affirms", "denies")
# A fixture's stance may also be this: the text reports a claim without taking a
# side. The stance head is trained towards 0.5 on it; it is never an output label.
UNVERIFIED = "unverified"
FIXTURE_STANCES: tuple[str, ...] = (*STANCES, UNVERIFIED)
TOPICS: tuple[str, ...] = ("defence", "economy", "migration", "courts", "other")
HARD_TAGS: tuple[str, ...] = (
    "reported-denial",
    "did-not-deny",
    "dismiss-negative",
    "hedged-confirmation",
    "negative-fact",
    "court-reversal",
    "court-upheld",
    "two-topics",
    "plain-denial",
    "other-sense",
)
