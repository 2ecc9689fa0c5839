"""API shapes for customers, identities and merges, with their bounds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from opencx.core.enums import IdentityKind
from opencx.core.ids import MAX_ID
from opencx.features.common import InputSchema, Schema, reject_nul

__all__ = [
    "COUNTRY_CODES",
    "MAX_ATTRIBUTES",
    "CustomerCreate",
    "CustomerDetail",
    "CustomerOut",
    "CustomerUpdate",
    "IdentityIn",
    "IdentityOut",
    "InputSchema",
    "MergeIn",
    "MergeOut",
    "RefId",
    "ResolveIn",
    "reject_nul",
]

MAX_JSON_INT = 2**63 - 1
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_ATTRIBUTES = 50
MAX_MONEY = 1e12

#: ISO 3166-1 alpha-2, officially assigned codes.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a table reads better as text
)

AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=1000)]
    | bool
    | Annotated[int, Field(ge=-MAX_JSON_INT, le=MAX_JSON_INT)]
    | Annotated[float, Field(allow_inf_nan=False)]
)
Language = Annotated[
    str, StringConstraints(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
Region = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
Money = Annotated[float, Field(ge=-MAX_MONEY, le=MAX_MONEY, allow_inf_nan=False)]


def check_country(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. FR, BE)")
    return code


class IdentityIn(InputSchema):
    """``region`` (ISO country) lets a phone number be given in national form."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=400)
    region: Region | None = None


class IdentityOut(Schema):
    id: int
    customer_id: int
    kind: IdentityKind
    value: str
    verified: bool
    #: False for an address only a message named: answers do not go there.
    confirmed: bool = True
    created_at: datetime


class _Profile(InputSchema):
    language: Language | None = None
    country: str | None = Field(default=None, max_length=8)
    segment: str | None = Field(default=None, min_length=1, max_length=64)
    lifetime_value: Money | None = None
    subscription_start: date | None = None
    subscription_end: date | None = None

    _country = field_validator("country")(check_country)


class CustomerCreate(_Profile):
    display_name: str = Field(default="", max_length=200)
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES
    )
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CustomerCreate:
        start, end = self.subscription_start, self.subscription_end
        if start is not None and end is not None and end < start:
            raise ValueError("subscription_end is before subscription_start")
        return self


class CustomerUpdate(_Profile):
    """Only the fields sent change. ``attributes`` is merged key by key (RFC 7396):
    a key sent with ``null`` is removed, keys not sent are kept."""

    display_name: str | None = Field(default=None, max_length=200)
    attributes: dict[AttributeKey, AttributeValue | None] | None = Field(
        default=None, max_length=MAX_ATTRIBUTES
    )


class CustomerOut(Schema):
    """``merged_into_id`` is set when this customer was merged into another: follow it."""

    id: int
    display_name: str
    language: str | None
    country: str | None
    segment: str | None
    lifetime_value: float | None
    subscription_start: date | None
    subscription_end: date | None
    attributes: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime


class CustomerDetail(CustomerOut):
    identities: list[IdentityOut] = Field(default_factory=list)


class ResolveIn(InputSchema):
    """Find the customer owning an identity, or create one with it."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=400)
    region: Region | None = None
    display_name: str | None = Field(default=None, max_length=200)


class MergeIn(InputSchema):
    source_customer_id: RefId
    reason: str = Field(default="", max_length=1000)


class MergeOut(Schema):
    id: int
    source_customer_id: int
    target_customer_id: int
    merged_by_user_id: int | None
    reason: str
    moved: dict[str, Any]
    merged_at: datetime
