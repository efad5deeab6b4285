"""The giveaway's fair draw: commit, publish, reveal, and anyone can re-check (pure: no database).

The protocol (erhuo-draw-v1):

1. **Commit** (when the giveaway is created, before anyone can enter): the
   server draws a random 32-byte seed (`secrets.token_bytes`) and publishes
   `seed_hash` = SHA-256 of those 32 bytes (hex). The seed itself is kept
   encrypted on the server and shown nowhere.
2. **Entrants** (when entries close): the entrants are written as their user
   ids in ascending numeric order, in decimal, joined by a line feed ("\\n"),
   with no line feed at the end (`entrants_text`; no entrants: the empty
   string). `entrants_hash` = SHA-256 of that text encoded as ASCII (hex) is
   published with the list.
3. **Reveal and draw**: the seed is published (hex, 64 characters). Winners
   are picked one rank at a time from the sorted list, each winner leaving
   the list before the next rank:

       for rank = 1, 2, … min(winners, entrants):
           message = entrants_hash + ":" + rank          (ASCII, rank in decimal)
           mac     = HMAC-SHA256(key = the 32 seed bytes, message)
           index   = int(mac as a big-endian unsigned number) mod len(remaining)
           winner  = remaining.pop(index)                 (0-based index)

Anyone can check: SHA-256(seed) equals the hash committed before entries
opened; SHA-256 of the published list equals `entrants_hash`; re-running
step 3 gives the same winners. A 256-bit number modulo a list of at most a
few thousand is uniform to within 2^-240.

What it proves and what it does not: the seed could not be chosen after the
entrants were known (its hash was public first), and the entrants list could
not be changed after the draw (its hash was public before the seed). It does
not stop someone who could read the encrypted seed before the draw from
adding entrants to steer it; entries need an active membership of a target
group, and organisers cannot enter.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable

ALGORITHM = "erhuo-draw-v1"
SEED_BYTES = 32


def new_seed() -> str:
    """A fresh random seed, as 64 hexadecimal characters."""
    return secrets.token_bytes(SEED_BYTES).hex()


def _seed_bytes(seed_hex: str) -> bytes:
    seed = bytes.fromhex(seed_hex)
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a seed is {SEED_BYTES} bytes ({SEED_BYTES * 2} hex characters)")
    return seed


def seed_hash(seed_hex: str) -> str:
    """SHA-256 of the seed's 32 bytes (not of its hex text), in hex."""
    return hashlib.sha256(_seed_bytes(seed_hex)).hexdigest()


def entrants_text(user_ids: Iterable[int]) -> str:
    """The canonical list: distinct ids, ascending, in decimal, one per line, no final line feed."""
    return "\n".join(str(user_id) for user_id in sorted({int(user_id) for user_id in user_ids}))


def entrants_hash(user_ids: Iterable[int]) -> str:
    return hashlib.sha256(entrants_text(user_ids).encode("ascii")).hexdigest()


def pick_index(seed_hex: str, entrants_digest: str, rank: int, remaining: int) -> tuple[str, int]:
    """One step: the HMAC (hex) for `rank` and the 0-based index it picks among `remaining` entrants."""
    message = f"{entrants_digest}:{rank}".encode("ascii")
    mac = hmac.new(_seed_bytes(seed_hex), message, hashlib.sha256).digest()
    return mac.hex(), int.from_bytes(mac, "big") % remaining


def draw_steps(seed_hex: str, user_ids: Iterable[int], winners: int) -> list[dict]:
    """Every step of the draw, for the verification page: rank, HMAC, list size, index and winner."""
    remaining = sorted({int(user_id) for user_id in user_ids})
    digest = entrants_hash(remaining)
    steps = []
    for rank in range(1, min(int(winners), len(remaining)) + 1):
        mac, index = pick_index(seed_hex, digest, rank, len(remaining))
        steps.append({"rank": rank, "hmac": mac, "remaining": len(remaining), "index": index})
        steps[-1]["user_id"] = remaining.pop(index)
    return steps


def draw_winners(seed_hex: str, user_ids: Iterable[int], winners: int) -> list[int]:
    """The winners' user ids, rank 1 first."""
    return [step["user_id"] for step in draw_steps(seed_hex, user_ids, winners)]


def verify(
    *, seed_hex: str, committed_seed_hash: str, user_ids: Iterable[int], published_entrants_hash: str, winners: int
) -> list[int]:
    """Re-check a published draw; returns the winners, or raises ValueError saying what does not match."""
    user_ids = list(user_ids)
    if seed_hash(seed_hex) != committed_seed_hash.lower():
        raise ValueError("the revealed seed does not match the committed seed hash")
    if entrants_hash(user_ids) != published_entrants_hash.lower():
        raise ValueError("the entrants list does not match the published entrants hash")
    return draw_winners(seed_hex, user_ids, winners)
