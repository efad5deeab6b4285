"""Trust services: verification.py, record.py, deposits.py.

The privacy orchestrator (erhuo/web/privacy.py) finds the two functions
below by name on this package.
"""


def erase_blockers(*, user) -> list[str]:
    from erhuo.trust.services import deposits, verification

    return [*verification.erase_blockers(user=user), *deposits.erase_blockers(user=user)]


def personal_data_erase(*, user) -> None:
    from erhuo.trust.services import deposits, verification

    verification.personal_data_erase(user=user)
    deposits.personal_data_erase(user=user)
