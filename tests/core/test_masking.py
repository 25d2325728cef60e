"""Masking secrets before they reach audit rows and logs (pure functions)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.masking import _PAIR_RE, _URL_PASSWORD_RE, MASK, Secret, mask, mask_text


def every_pattern_applied(text: str) -> str:
    """mask_text without its shortcut: both patterns on every string."""
    text = _URL_PASSWORD_RE.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)
    return _PAIR_RE.sub(lambda m: f"{m['key']}{MASK}", text)


def test_secret_keys_values_urls_and_pairs_are_masked():
    masked = mask(
        {
            "password": "hunter2",
            "nested": [{"API-Key": "k-1"}, {"name": "ok"}],
            "dsn": "postgresql://u:hunter2@h/db",
            "note": "retry with token=abc123; then url https://bob:pw9@example.org/x",
            "plain": Secret("s3cret"),
            "empty_password": "",
        }
    )
    assert masked == {
        "password": MASK,
        "nested": [{"API-Key": MASK}, {"name": "ok"}],
        "dsn": MASK,
        "note": f"retry with token={MASK}; then url https://bob:{MASK}@example.org/x",
        "plain": MASK,
        "empty_password": "",
    }


ALPHABET = st.sampled_from(list("ab:=/@ \"',;&}-_") + ["://", "password", "token", "secret"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_the_shortcut_masks_exactly_what_both_patterns_mask(text):
    assert mask_text(text) == every_pattern_applied(text)
