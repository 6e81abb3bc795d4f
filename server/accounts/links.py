"""The invitation link a coordinator hands over, as text and as a QR code to scan with the phone."""

from __future__ import annotations

import msgspec
import segno

from server.settings import Settings


class InvitationLink(msgspec.Struct, frozen=True):
    url: str
    qr_data_uri: str  # an SVG data URI: the page's CSP allows data: images, no script involved


def invitation_link(settings: Settings, token: str) -> InvitationLink:
    url = f"{settings.base_url}/invite/{token}"
    qr = segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#1b1f23", light="#ffffff")
    return InvitationLink(url=url, qr_data_uri=qr)
