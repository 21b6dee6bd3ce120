"""The label sets, defined once so fixtures, heads, reports and the CLI agree."""

STANCES: tuple[str, ...] = ("affirms", "denies")
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
)
