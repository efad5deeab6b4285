"""Every write to the community goes through a module of this package (import the module you need):

- `groups`: tags, member tags, segments, groups, memberships, invites, admission;
- `placement`: placement runs and proposed moves (the scoring is in `erhuo.community.placement`);
- `drops`: drops of items into groups;
- `classes`: micro-classes;
- `activities`: buy-with-gift, giveaways with a fair draw, themed drops.
"""

from erhuo.community.services.privacy import erase_blockers, personal_data_erase  # noqa: F401
