"""Trust models: seller verification and seller record (verification.py, record.py), deposits (deposits.py)."""

from erhuo.trust.models.deposits import *  # noqa: F403
from erhuo.trust.models.record import *  # noqa: F403
from erhuo.trust.models.verification import *  # noqa: F403
