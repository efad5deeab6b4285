"""The community API: one router assembled from each area's module."""

from ninja import Router

from erhuo.community.api import activities, classes, drops, groups, placement

router = Router(tags=["community"])
for module in (groups, placement, drops, classes, activities):
    router.add_router("", module.router)
