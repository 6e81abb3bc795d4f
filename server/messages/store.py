"""Messages: who a filter reaches, sending, the inbox; limited to one organisation."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import msgspec

from server import sql
from server.push import store as push
from server.push.sender import poke

from server.accounts.store import UserRecord, list_users
from server.messages.tables import Message, MessageRecipient


class Audience(msgspec.Struct, frozen=True):
    language: str = ""  # a language code, or "" for any
    district: str = ""  # a district, or "" for any


class InboxEntry(msgspec.Struct, frozen=True):
    id: UUID
    subject: str
    body: str
    author_name: str
    created_at: datetime
    read: bool


def reached(volunteers: list[UserRecord], audience: Audience) -> list[UserRecord]:
    """The active volunteers a message with this filter reaches."""
    return [
        v for v in volunteers
        if v.active and v.role == "volunteer"
        and (not audience.language or any(lang.code == audience.language for lang in v.languages))
        and (not audience.district or audience.district in v.districts)
    ]


async def recipients(organisation_id: UUID, audience: Audience) -> list[UserRecord]:
    return reached(await list_users(organisation_id, role="volunteer"), audience)


async def send(organisation_id: UUID, author_id: UUID, subject: str, body: str, audience: Audience, now: datetime) -> int:
    """Send to everyone the filter reaches now; returns how many that is."""
    people = await recipients(organisation_id, audience)
    if not people:
        return 0
    message_id = uuid4()
    async with sql.transaction(Message._meta.db, write=True) as connection:  # the alerts go with it, or not at all
        uuid = connection.uuid
        await connection.execute(
            "INSERT INTO message (id, organisation, author, subject, body, audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            uuid(message_id), uuid(organisation_id), uuid(author_id), subject, body,
            msgspec.json.encode(audience).decode(), connection.timestamp(now))
        await connection.executemany("INSERT INTO message_recipient (message, recipient) VALUES (?, ?)",
                                     [[uuid(message_id), uuid(p.id)] for p in people])
        await push.enqueue(connection, organisation_id, [p.id for p in people], "message", "/inbox", now)
    poke()
    return len(people)


async def sent(organisation_id: UUID) -> list[dict]:
    """Messages of the organisation, newest first, with how many received and read them."""
    messages = await Message.select(
        Message.id, Message.subject, Message.created_at, Message.author.display_name.as_alias("author_name"),
    ).where(Message.organisation == organisation_id).order_by(Message.created_at, ascending=False)
    counts: dict = {}
    if messages:
        rows = await MessageRecipient.select(MessageRecipient.message, MessageRecipient.read_at).where(
            MessageRecipient.message.is_in([m["id"] for m in messages]))
        for row in rows:
            total, read = counts.get(row["message"], (0, 0))
            counts[row["message"]] = (total + 1, read + (row["read_at"] is not None))
    return [{**m, "recipients": counts.get(m["id"], (0, 0))[0], "read": counts.get(m["id"], (0, 0))[1]} for m in messages]


async def inbox(user_id: UUID, organisation_id: UUID) -> list[InboxEntry]:
    rows = await MessageRecipient.select(
        MessageRecipient.message.id.as_alias("id"), MessageRecipient.message.subject.as_alias("subject"),
        MessageRecipient.message.body.as_alias("body"), MessageRecipient.message.created_at.as_alias("created_at"),
        MessageRecipient.message.author.display_name.as_alias("author_name"), MessageRecipient.read_at,
    ).where(
        (MessageRecipient.recipient == user_id) & (MessageRecipient.message.organisation == organisation_id)
    ).order_by(MessageRecipient.message.created_at, ascending=False)
    return [InboxEntry(id=r["id"], subject=r["subject"], body=r["body"], author_name=r["author_name"],
                       created_at=r["created_at"], read=r["read_at"] is not None) for r in rows]


async def mark_read(user_id: UUID, message_id: UUID, now: datetime) -> bool:
    """Mark one message of this user's inbox read; False when it is not in their inbox."""
    updated = await MessageRecipient.update({MessageRecipient.read_at: now}).where(
        (MessageRecipient.recipient == user_id) & (MessageRecipient.message == message_id)
        & MessageRecipient.read_at.is_null()).returning(MessageRecipient.id)
    if updated:
        return True
    return await MessageRecipient.exists().where(
        (MessageRecipient.recipient == user_id) & (MessageRecipient.message == message_id))
