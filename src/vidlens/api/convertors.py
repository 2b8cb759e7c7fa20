"""Route convertors shared by the API and the pages.

``hexid``: an id written in hex (digital humans, claims), so a sibling word route such as
``/api/humans/scan`` or ``/api/claims/scan`` is never read as an id, and a method of that word route is
never advertised for it.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class HexId(Convertor[str]):
    regex = "[0-9a-fA-F]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("hexid", HexId())
