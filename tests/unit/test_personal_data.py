"""Phones are masked for officers and tokenised for events."""

from services.common import personal_data


def test_masks_all_but_first_three_and_last_four_digits() -> None:
    assert personal_data.mask_phone("13812345678") == "138****5678"


def test_tokens_are_stable_keyed_and_do_not_contain_the_number() -> None:
    token = personal_data.tokenise("13812345678", key="k1")
    assert token == personal_data.tokenise("13812345678", key="k1")
    assert token != personal_data.tokenise("13812345678", key="k2")
    assert "13812345678" not in token and "5678" not in token
