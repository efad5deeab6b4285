"""Chinese resident identity card numbers (居民身份证号码), GB 11643-1999.

Eighteen characters: a six-digit address code (the first two digits are the
province), the date of birth as YYYYMMDD, a three-digit sequence number whose
last digit is odd for men and even for women, and a check digit computed
with ISO 7064 MOD 11-2 (0–9, or X for ten).

`parse_id_number` refuses, each with its own code and a translated reason,
in this order: the shape (`id_number_format`), the check digit
(`id_number_checksum`: a mistyped digit is caught here, since MOD 11-2
detects every single-digit substitution), the province (`id_number_region`),
the date of birth (`id_number_birth_date`) and the age (`id_number_under_age`:
sellers must be adults). A valid number is returned normalised: full-width
digits and spaces typed on a Chinese keyboard are accepted, a lower-case x is
upper-cased.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.core.errors import ValidationFailed

# Weight of each of the first 17 digits: 2^(17 - position) mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for (weighted sum mod 11).
CHECK_CHARACTERS = "10X98765432"
# Province codes: the mainland provinces and municipalities, Taiwan (71), Hong Kong (81), Macao (82),
# and 83, which residence permits of Taiwan residents use.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
EARLIEST_BIRTH_YEAR = 1900
MINIMUM_AGE = 18
FIELD = "id_number"


class Sex:
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str

    @property
    def province_code(self) -> str:
        return self.number[:2]


def check_character(first_seventeen: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalise_id_number(value: str) -> str:
    # NFKC turns full-width digits and letters (１２３Ｘ) into ASCII.
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(text.split()).upper()


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _refuse(code: str, message: str):
    return ValidationFailed(message, code=code, fields={FIELD: [message]})


def parse_id_number(value: str, *, today: date | None = None) -> IdNumber:
    """Validate an ID number and return it normalised, with its date of birth and sex."""
    number = normalise_id_number(value)
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _refuse(
            "id_number_format",
            _("An ID number has 18 characters: 17 digits and a last digit or the letter X."),
        )
    if check_character(number[:17]) != number[17]:
        raise _refuse(
            "id_number_checksum",
            _("This ID number is not valid: its last digit does not match. Check it for a typing mistake."),
        )
    if int(number[:2]) not in PROVINCE_CODES:
        raise _refuse("id_number_region", _("This ID number does not start with a valid province code."))
    today = today or timezone.localdate()
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth_date = None
    if birth_date is None or birth_date.year < EARLIEST_BIRTH_YEAR or birth_date > today:
        raise _refuse(
            "id_number_birth_date", _("The date of birth in this ID number (digits 7–14) is not a real date.")
        )
    if age_on(birth_date, today) < MINIMUM_AGE:
        raise _refuse(
            "id_number_under_age",
            _("Sellers must be at least %(age)s years old.") % {"age": MINIMUM_AGE},
        )
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdNumber(number=number, birth_date=birth_date, sex=sex)


def id_number_digest_input(number: str) -> str:
    """What the blind index hashes: the kind prefix and the normalised number."""
    return "id:" + normalise_id_number(number)
