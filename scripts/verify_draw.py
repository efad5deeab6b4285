#!/usr/bin/env python3
"""Re-check an Erhuo giveaway's fair draw (erhuo-draw-v1) from what the site published. Standard library only.

    python3 scripts/verify_draw.py draw.json
    python3 scripts/verify_draw.py https://erhuo.example/api/v1/activities/12/draw --token <API token>
    curl … | python3 scripts/verify_draw.py -

The input is the answer of GET /api/v1/activities/{id}/draw. The script
checks, without trusting the site's own checks:

1. SHA-256 of the revealed seed's 32 bytes equals `seed_hash`, the hash
   published when the giveaway was created (`seed_committed_at`, before the
   first entry);
2. SHA-256 of the entrants list — user ids ascending, in decimal, one per
   line, no final line feed — equals `entrants_hash`, published when entries
   closed;
3. drawing again: for rank r = 1 … min(winners_count, entrants),
   HMAC-SHA256(key = seed bytes, message = entrants_hash + ":" + r), read as a
   big-endian number, modulo the entrants still in the list, is the 0-based
   position of the rank-r winner, who then leaves the list; the winners
   found equal the `winners` published.

Exit status 0 when everything matches, 1 when something does not (it says
what), 2 when the draw has not happened yet or the input cannot be read.
"""

import argparse
import hashlib
import hmac
import json
import sys
import urllib.request
from datetime import datetime


def entrants_text(user_ids) -> str:
    return "\n".join(str(user_id) for user_id in sorted({int(user_id) for user_id in user_ids}))


def draw_winners(seed_hex: str, user_ids, winners: int) -> list[int]:
    remaining = sorted({int(user_id) for user_id in user_ids})
    digest = hashlib.sha256(entrants_text(remaining).encode("ascii")).hexdigest()
    key = bytes.fromhex(seed_hex)
    chosen = []
    for rank in range(1, min(int(winners), len(remaining)) + 1):
        mac = hmac.new(key, f"{digest}:{rank}".encode("ascii"), hashlib.sha256).digest()
        chosen.append(remaining.pop(int.from_bytes(mac, "big") % len(remaining)))
    return chosen


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check(record: dict) -> list[str]:
    """The problems found (empty: the draw checks out)."""
    problems = []
    seed = record.get("seed")
    ids = [entrant["user_id"] for entrant in record.get("entrants", [])]
    seed_digest = hashlib.sha256(bytes.fromhex(seed)).hexdigest()
    if len(bytes.fromhex(seed)) != 32:
        problems.append("the seed is not 32 bytes")
    if seed_digest != record["seed_hash"].lower():
        problems.append(f"SHA-256(seed) is {seed_digest}, but the committed seed hash is {record['seed_hash']}")
    list_digest = hashlib.sha256(entrants_text(ids).encode("ascii")).hexdigest()
    if list_digest != (record.get("entrants_hash") or "").lower():
        problems.append(
            f"SHA-256(entrants list) is {list_digest}, but the published hash is {record.get('entrants_hash')}"
        )
    if len(ids) != record.get("entrants_count", len(ids)):
        problems.append(f"{len(ids)} entrants listed, but entrants_count says {record.get('entrants_count')}")
    committed, first = record.get("seed_committed_at"), record.get("first_entry_at")
    if committed and first and moment(committed) > moment(first):
        problems.append(f"the seed hash was published at {committed}, after the first entry at {first}")
    found = draw_winners(seed, ids, record["winners_count"])
    published = [winner["user_id"] for winner in sorted(record.get("winners", []), key=lambda w: w["rank"])]
    if found != published:
        problems.append(f"the rule gives the winners {found}, but {published} were published")
    return problems


def load(source: str, token: str | None) -> dict:
    if source == "-":
        return json.load(sys.stdin)
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) only, checked above
            return json.load(response)
    with open(source, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a JSON file, '-' for standard input, or the API's address")
    parser.add_argument("--token", help="an API token, to fetch from the API")
    args = parser.parse_args(argv)
    try:
        record = load(args.source, args.token)
    except (OSError, ValueError) as error:
        print(f"cannot read the draw: {error}", file=sys.stderr)
        return 2
    if not record.get("seed"):
        print(f"not drawn yet: the seed is still secret (seed hash committed: {record.get('seed_hash')})")
        return 2
    problems = check(record)
    title = record.get("title", "")
    if problems:
        print(f"DRAW DOES NOT CHECK OUT: {title}")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    winners = ", ".join(
        f"#{w['user_id']} (rank {w['rank']})" for w in sorted(record["winners"], key=lambda w: w["rank"])
    )
    print(f"OK: {title}")
    print(f"  seed hash      {record['seed_hash']}  = SHA-256(seed)")
    print(f"  entrants hash  {record['entrants_hash']}  = SHA-256 of {len(record['entrants'])} entrants")
    print(f"  winners        {winners or 'none (nobody entered)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
