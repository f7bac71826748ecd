"""The sentences moderators read for the trust signals of signed-in readers."""

from commentsvc.comments.reasons import explain


def test_a_new_account_s_hold_is_a_reason():
    why = explain({"held": {"new_account": {"approved": 1, "needed": 2}}})

    assert why.reasons == [
        "A new account: 1 of its comments approved, the site publishes an "
        "account's comments after 2"
    ]


def test_a_mostly_rejected_account_s_hold_is_a_reason():
    why = explain({"held": {"mostly_rejected": {"rejected": 4, "of": 5}}})

    assert why.reasons == [
        "The account's recent comments were mostly rejected (4 of its last 5 decided)"
    ]


def test_signed_in_trusted_and_staff_are_notes_not_reasons():
    why = explain({"captcha": "signed_in", "trusted_account": True, "staff": True})

    assert why.reasons == []
    assert why.notes == [
        "No captcha asked: the author is signed in",
        "Published at once: the author's account has approved comments on this site",
        "Published at once: written by staff",
    ]


def test_a_strange_value_is_shown_as_words():
    why = explain({"held": {"new_account": "odd"}})

    assert why.reasons == ["New account: odd"]
