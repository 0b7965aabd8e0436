"""Fictional children for the tests: NHS numbers of the test range (999...) only."""

from cir_registry import v1

NOTIFYING_SYSTEM = "RXH01"


def nhs_check_digit(nine_digits: str) -> int:
    """The Modulus 11 check digit of an NHS number's first nine digits; -1 if none is valid."""
    total = sum(int(digit) * weight for digit, weight in zip(nine_digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return -1 if check == 10 else check


def fictional_nhs_number(n: int) -> str:
    """The n-th valid NHS number beginning 999 (as tests/testing/fictional_children.cc's)."""
    q = (n // 9) % 100000
    wanted = n % 9
    for d in range(10):
        digits = f"999{q:05d}{d}"
        check = nhs_check_digit(digits)
        if check < 0:
            continue
        if wanted == 0:
            return f"{digits}{check}"
        wanted -= 1
    raise AssertionError("unreachable: at most one d of ten has no valid check digit")


def invalid_nhs_number(n: int) -> str:
    """An NHS number of the test range whose check digit is wrong."""
    valid = fictional_nhs_number(n)
    return valid[:9] + str((int(valid[9]) + 1) % 10)


def fictional_birth(notification_id: str, nhs_number: str,
                    local_authority: str = "938") -> v1.RegisterBirthRequest:
    return v1.RegisterBirthRequest(
        notifying_system=NOTIFYING_SYSTEM, notification_id=notification_id,
        nhs_number=nhs_number, date_of_birth=v1.Date(year=2026, month=3, day=14),
        sex=v1.SEX_FEMALE, given_name="Ada", family_name="Lovelace-Test",
        address_lines=["1 High Street", "Horsham"], postcode="RH12 1AA",
        local_authority=local_authority, birth_order=1,
        mother_nhs_number=fictional_nhs_number(899999), mother_given_name="Mary",
        mother_family_name="Lovelace-Test")
