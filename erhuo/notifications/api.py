"""The notifications API: my notices, how many are unread, marking them read.

A person only ever sees and marks her own notices: another person's notice id
answers 404 `notice_not_found`, exactly like one that does not exist, and
nothing changes. New notices are also pushed to the person's open WebSocket
(`/ws/me/`) as `{"event": "notice", "payload": <the notice as below, with "type": "notice">}`.
"""

from datetime import datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.notifications import selectors, services

router = Router(tags=["notifications"])

# Ids are database keys: a bigger number cannot exist, and SQLite cannot even be asked about it.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class NoticeOut(Schema):
    id: int = Field(..., examples=[42])
    kind: str = Field(
        ..., description="What it is about: claim_offered, class_reminder, …", examples=["class_reminder"]
    )
    title: str = Field(..., examples=["Your class starts at 20:00: 奢侈品包袋鉴定入门"])
    body: str = Field(..., examples=["Open the class page to join."])
    url: str = Field(
        ...,
        description="Where it leads: a path on this site or a web address; empty for none",
        examples=["/classes/7/"],
    )
    data: dict = Field(
        ..., description="Details for clients, by kind (ids of what it is about)", examples=[{"class_id": 7}]
    )
    created_at: datetime
    read_at: datetime | None = Field(..., description="When you marked it read; null while unread")


class UnreadCountOut(Schema):
    unread: int = Field(..., examples=[3])


class MarkedOut(Schema):
    marked: int = Field(..., description="How many notices this call marked read", examples=[3])
    unread: int = Field(..., description="How many are still unread (arrived after up_to_id)", examples=[0])


class ReadAllIn(Schema):
    up_to_id: Id | None = Field(
        None, description="Only notices up to this id (the newest you showed), so a newer one stays unread"
    )


@router.get("/notices", response=list[NoticeOut], summary="My notices, newest first")
@paginate(PageNumberPagination, page_size=20)
def notice_list(request, unread: bool = Query(False, description="Only the unread ones")):
    return selectors.notices_for(request.user, unread_only=unread)


@router.get("/notices/unread-count", response=UnreadCountOut, summary="How many of my notices are unread")
def notice_unread_count(request):
    return {"unread": selectors.unread_count(request.user)}


@router.post("/notices/read-all", response=MarkedOut, summary="Mark all my notices read")
def notice_read_all(request, payload: ReadAllIn | None = None):
    marked = services.notices_mark_all_read(user=request.user, up_to_id=payload.up_to_id if payload else None)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}


@router.post(
    "/notices/{int:notice_id}/read", response={200: NoticeOut, 404: ErrorOut}, summary="Mark one of my notices read"
)
def notice_read(request, notice_id: Id):
    """Marking a notice already read changes nothing. 404 `notice_not_found` for someone else's notice."""
    return Status(200, services.notice_mark_read(notice_id=notice_id, user=request.user))
