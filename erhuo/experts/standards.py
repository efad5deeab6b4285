"""The written standards an expert application is reviewed against.

Every standard must be marked met or not met by the reviewer; an application
is approved only when every one is met. The list is public
(/experts/standards/), so applicants know exactly what is asked of them.
Codes are stable: the reviewer's checklist is stored by code.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Standard:
    code: str
    title: str
    meaning: str


STANDARDS: tuple[Standard, ...] = (
    Standard(
        "consistent_taste",
        _("The portfolio shows a consistent taste"),
        _(
            "The photos show a recognisable style that suits our members (women and mothers): outfits, "
            "pairings or choices that hang together, not a random collection."
        ),
    ),
    Standard(
        "clear_own_photos",
        _("Photos are clear and the applicant's own work"),
        _(
            "Each photo is sharp, well lit and shows the item or outfit properly. The photos were taken or styled "
            "by the applicant; pictures copied from shops or other people are a reason to refuse."
        ),
    ),
    Standard(
        "specialty_knowledge",
        _("Knowledge of the chosen specialties is demonstrated"),
        _(
            "What the applicant writes about her experience shows real knowledge of each specialty she chose "
            "(for example materials and authentication points of luxury bags, or sizing and safety of kids' clothes)."
        ),
    ),
    Standard(
        "community_conduct",
        _("Good conduct in the community"),
        _(
            "The account is in good standing: never suspended, no upheld complaints, and a friendly, honest tone "
            "towards other members."
        ),
    ),
    Standard(
        "experience",
        _("Enough experience"),
        _(
            "The years and kind of experience described (as a stylist, buyer, seller, mother of several children, "
            "collector…) are enough to give members advice they can rely on."
        ),
    ),
)

STANDARD_CODES: tuple[str, ...] = tuple(standard.code for standard in STANDARDS)
