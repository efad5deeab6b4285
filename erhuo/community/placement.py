"""The placement engine's arithmetic: pure functions over tag profiles, no database (ADR 12).

A *profile* is a member's tags as `{tag code: weight}` (weights in 0..1; the
sources merged by `selectors.member_profile`). Two members are alike when
their profiles point the same way: the cosine of the two vectors. A group's
*centroid* is the sum of its members' unit profiles; its *purity* is the mean
cosine over every pair of its members, which the centroid gives without
visiting the pairs:

    Σ_{i≠j} cos(a_i, a_j) = |Σ â_i|² − n   (â the unit vectors)
    purity = (|Σ â_i|² − n) / (n (n − 1))

A *segment rule* is `{"all": [...], "any": [...], "none": [...]}` over tag
codes: a profile matches when it has every tag of `all`, at least one of
`any` (if given) and none of `none`.

A newcomer's fit to a group is the cosine of her profile with the group's
centroid (how alike she is to its members on average, up to the centroid's
length), and, for an empty group, with its segment's rule tags.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import sqrt

Profile = Mapping[str, float]


def norm(profile: Profile) -> float:
    return sqrt(sum(weight * weight for weight in profile.values()))


def unit(profile: Profile) -> dict[str, float]:
    length = norm(profile)
    if length == 0:
        return {}
    return {code: weight / length for code, weight in profile.items() if weight}


def dot(a: Profile, b: Profile) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(code, 0.0) for code, weight in a.items())


def cosine(a: Profile, b: Profile) -> float:
    na, nb = norm(a), norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return dot(a, b) / (na * nb)


def rule_tags(rule: Mapping) -> list[str]:
    return list(rule.get("all") or []) + list(rule.get("any") or [])


def matches(rule: Mapping, profile: Profile) -> bool:
    """Does the profile satisfy the segment rule? An empty rule matches everyone."""
    has = {code for code, weight in profile.items() if weight > 0}
    if any(code not in has for code in rule.get("all") or ()):
        return False
    any_of = rule.get("any") or ()
    if any_of and not has.intersection(any_of):
        return False
    return not has.intersection(rule.get("none") or ())


def rule_profile(rule: Mapping) -> dict[str, float]:
    """What an ideal member of a segment looks like: its rule's tags, `all` ones weighing double."""
    profile = {code: 0.5 for code in rule.get("any") or ()}
    profile.update({code: 1.0 for code in rule.get("all") or ()})
    return profile


@dataclass
class Centroid:
    """The sum of a group's members' unit profiles, kept up to date as members come and go."""

    total: dict[str, float] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def of(cls, profiles: Iterable[Profile]) -> "Centroid":
        centroid = cls()
        for profile in profiles:
            centroid.add(profile)
        return centroid

    def add(self, profile: Profile, sign: int = 1) -> None:
        for code, weight in unit(profile).items():
            self.total[code] = self.total.get(code, 0.0) + sign * weight
        self.count += sign

    def remove(self, profile: Profile) -> None:
        self.add(profile, sign=-1)

    def purity(self) -> float:
        """Mean cosine over every pair of members (1.0 for fewer than two: nothing to disagree)."""
        n = self.count
        if n < 2:
            return 1.0
        squared = sum(weight * weight for weight in self.total.values())
        return (squared - n) / (n * (n - 1))

    def fit(self, profile: Profile) -> float:
        """Mean cosine of `profile` with the members (0 for an empty group)."""
        if self.count == 0:
            return 0.0
        return dot(unit(profile), self.total) / self.count


def purity(profiles: Iterable[Profile]) -> float:
    return Centroid.of(profiles).purity()


@dataclass
class Candidate:
    """A group a newcomer could go to, as the engine sees it."""

    group_id: int
    rule: Mapping
    centroid: Centroid
    member_count: int
    capacity: int
    open: bool = True


def score(profile: Profile, candidate: Candidate) -> float:
    """How well `profile` fits `candidate`, in 0..1: 0 when she does not match its segment's rule.

    Half from the rule (how much of the segment's ideal she has), half from the
    members already there (their mean cosine with her); an empty group counts
    its rule twice.
    """
    if not matches(candidate.rule, profile):
        return 0.0
    by_rule = cosine(profile, rule_profile(candidate.rule)) if rule_tags(candidate.rule) else 0.5
    by_members = candidate.centroid.fit(profile) if candidate.centroid.count else by_rule
    return 0.5 * by_rule + 0.5 * by_members


def rank(profile: Profile, candidates: Iterable[Candidate]) -> list[tuple[float, Candidate]]:
    """Open groups with room that she matches, best first (ties: the fuller group, to fill groups in turn)."""
    ranked = []
    for candidate in candidates:
        if not candidate.open or candidate.member_count >= candidate.capacity:
            continue
        value = score(profile, candidate)
        if value > 0:
            ranked.append((value, candidate))
    ranked.sort(key=lambda pair: (-round(pair[0], 6), -pair[1].member_count, pair[1].group_id))
    return ranked
