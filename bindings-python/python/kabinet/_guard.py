"""The boundary guard: whatever a caller passes, Kabinet answers with a KabinetError.

PyO3 converts arguments before Kabinet's own checks run, and raises Python's built-in
errors when it cannot: ``TypeError`` for a wrong type, ``OverflowError`` for a number out of
range, ``UnicodeEncodeError`` for a lone surrogate, ``ValueError`` for a naive or
out-of-range date. A host that catches ``kabinet.KabinetError`` must see those as what they
are — invalid input — so every public call of the extension module is wrapped once, at
import, to turn them into :class:`kabinet.ValidationError` (``code == "validation"``, the
argument's name in ``field`` when known, and ``reason`` one of ``type``, ``range`` or
``encoding``). The message never repeats the value. Input records (``Config(...)``,
``Registration(...)``) are a thin Python subclass of the native type whose ``__new__`` is
guarded the same way (CPython refuses a replaced ``__new__`` on the extension type itself). Errors raised inside a host callback
(a notifier, a registry) are Kabinet's to report and never pass through here.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
from types import ModuleType
from typing import Any, Callable

from . import _kabinet

_ARGUMENT = re.compile(r"argument '([A-Za-z_][A-Za-z0-9_]*)'")


def _reason(error: BaseException) -> str:
    if isinstance(error, UnicodeError):
        return "encoding"
    if isinstance(error, OverflowError):
        return "range"
    if isinstance(error, TypeError):
        return "type"
    return "format"


def _invalid(error: BaseException) -> BaseException:
    match = _ARGUMENT.search(str(error)) if isinstance(error, TypeError) else None
    field = match.group(1) if match else None
    reason = _reason(error)
    named = f" ({field})" if field else ""
    invalid = _kabinet.ValidationError(f"Invalid value{named}: {reason}")
    invalid.code = "validation"
    invalid.message = str(invalid)
    invalid.field = field
    invalid.reason = reason
    invalid.retryable = False
    return invalid


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except _kabinet.KabinetError:
            raise
        except (TypeError, ValueError, OverflowError, UnicodeError) as error:
            raise _invalid(error) from None

    call.__kabinet_guarded__ = True  # type: ignore[attr-defined]
    return call


def _guard_class(cls: type) -> None:
    for name, attribute in list(vars(cls).items()):
        # Constructors stay as they are: a wrapped `__new__` fails CPython's safety check.
        if name.startswith("__"):
            continue
        if isinstance(attribute, staticmethod):
            setattr(cls, name, staticmethod(_guarded(attribute.__func__)))
        elif isinstance(attribute, classmethod):
            setattr(cls, name, classmethod(_guarded(attribute.__func__)))
        elif callable(attribute) and not getattr(attribute, "__kabinet_guarded__", False):
            setattr(cls, name, _guarded(attribute))


def _stand_in(real: type) -> type:
    """A subclass of the native input type whose construction is guarded (CPython refuses a
    replaced ``__new__`` on the extension type itself, not on a subclass). It adds nothing
    else: ``isinstance`` against it is what callers use, and the binding accepts it wherever
    the native type is expected."""
    guarded_new = _guarded(real.__new__)

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return guarded_new(cls, *args, **kwargs)

    native = inspect.signature(real)
    first = inspect.Parameter("cls", inspect.Parameter.POSITIONAL_ONLY)
    __new__.__signature__ = native.replace(parameters=[first, *native.parameters.values()])  # type: ignore[attr-defined]
    namespace = {
        "__new__": __new__,
        "__slots__": (),
        "__doc__": real.__doc__,
        "__module__": real.__module__,
        "__qualname__": real.__qualname__,
    }
    return type(real.__name__, (real,), namespace)


def guard(module: ModuleType) -> None:
    """Wraps every class and function the extension module exports (once)."""
    if getattr(module, "__kabinet_guarded__", False):
        return
    for name, value in list(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, type) and issubclass(value, enum.Enum):
            continue  # the closed sets: plain `StrEnum`s, nothing native to guard
        if isinstance(value, type) and not issubclass(value, BaseException):
            _guard_class(value)
            if "__new__" in vars(value):
                setattr(module, name, _stand_in(value))
        elif callable(value) and not isinstance(value, type):
            setattr(module, name, _guarded(value))
    module.__kabinet_guarded__ = True  # type: ignore[attr-defined]
