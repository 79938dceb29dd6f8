"""What a host implements: the shapes Kabinet calls back (type-checking aids; any object with
the method works). Callbacks are plain functions: an ``async def`` one is refused when the
:class:`kabinet.Config` is made, because Kabinet calls them from its own threads and would
never await the coroutine."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._kabinet import ConfirmationRequest, Message, RegistryAnswer, RegistryRequest


@runtime_checkable
class Clock(Protocol):
    """Kabinet's time source (tests and simulations): an aware UTC datetime."""

    def now(self) -> datetime.datetime: ...


@runtime_checkable
class Notifier(Protocol):
    """Delivers messages (SMS gateway, mail server, push service); raising schedules a retry."""

    def deliver(self, message: Message) -> None: ...


@runtime_checkable
class IdentityRegistry(Protocol):
    """Answers identity confirmations against the state registries (R2)."""

    def check(self, request: RegistryRequest) -> RegistryAnswer: ...


@runtime_checkable
class Confirmer(Protocol):
    """Confirmation methods besides the SMS code (an electronic signature, a code shown in the
    app) for profile changes and attachments (R11, R18). Only a real ``True`` from ``verify``
    confirms; raising means the method is unavailable (``confirmation.unavailable``)."""

    def methods(self) -> list[str]: ...

    def start(self, request: ConfirmationRequest) -> None: ...

    def verify(self, request: ConfirmationRequest, proof: str) -> bool: ...
