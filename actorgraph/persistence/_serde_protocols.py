"""The serializer and cipher protocols savers accept (LangGraph's shapes), the wrapper
that gives an old-style ``dumps``/``loads`` serializer the typed methods, and
``EncryptedSerializer`` (AES through pycryptodome; no cryptography of our own)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from typing_extensions import Self

from actorgraph._constants import ERROR, INTERRUPT, RESUME, TASKS
from actorgraph.persistence._serde import JsonPlusSerializer, _DeltaSnapshot

__all__ = (
    "ERROR",
    "INTERRUPT",
    "RESUME",
    "SCHEDULED",
    "TASKS",
    "ChannelProtocol",
    "CipherProtocol",
    "EncryptedSerializer",
    "SendProtocol",
    "SerializerCompat",
    "SerializerProtocol",
    "UntypedSerializerProtocol",
    "_DeltaSnapshot",
    "maybe_add_typed_methods",
)

SCHEDULED = "__scheduled__"


class UntypedSerializerProtocol(Protocol):
    """An old-style serializer: ``dumps(obj) -> bytes`` and ``loads(bytes)``."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


@runtime_checkable
class SerializerProtocol(Protocol):
    """What savers store values with: ``dumps_typed(obj) -> (type, bytes)`` and back."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]: ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any: ...


class SerializerCompat(SerializerProtocol):
    """Gives an untyped serializer the typed methods (the type is the class name)."""

    def __init__(self, serde: UntypedSerializerProtocol) -> None:
        self.serde = serde

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return type(obj).__name__, self.serde.dumps(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.serde.loads(data[1])


def maybe_add_typed_methods(serde: SerializerProtocol | UntypedSerializerProtocol) -> SerializerProtocol:
    """``serde`` itself when it has the typed methods, else wrapped in ``SerializerCompat``."""
    if isinstance(serde, SerializerProtocol):
        return serde
    return SerializerCompat(serde)


class CipherProtocol(Protocol):
    """Encrypts stored bytes: ``encrypt(plaintext) -> (cipher name, ciphertext)``."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]: ...

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes: ...


class EncryptedSerializer(SerializerProtocol):
    """Serializes with ``serde`` and encrypts the bytes with ``cipher``; the stored type
    becomes ``"<type>+<cipher name>"``. Data stored unencrypted still reads back."""

    def __init__(self, cipher: CipherProtocol, serde: SerializerProtocol | None = None) -> None:
        self.cipher = cipher
        self.serde = serde if serde is not None else JsonPlusSerializer()

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        typ, data = self.serde.dumps_typed(obj)
        name, ciphertext = self.cipher.encrypt(data)
        return f"{typ}+{name}", ciphertext

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        enc_type, ciphertext = data
        if "+" not in enc_type:
            return self.serde.loads_typed(data)
        typ, name = enc_type.split("+", 1)
        return self.serde.loads_typed((typ, self.cipher.decrypt(name, ciphertext)))

    @classmethod
    def from_pycryptodome_aes(cls, serde: SerializerProtocol | None = None, **kwargs: Any) -> EncryptedSerializer:
        """AES (EAX mode unless ``mode=`` says otherwise) with ``key=`` or the
        ``LANGGRAPH_AES_KEY`` environment variable (16, 24 or 32 bytes). Stored as
        nonce (16 bytes) + tag (16 bytes) + ciphertext, as LangGraph stores it."""
        try:
            from Crypto.Cipher import AES
        except ImportError:
            raise ImportError(
                "Pycryptodome is not installed. Please install it with `pip install pycryptodome`."
            ) from None
        if "key" in kwargs:
            key: bytes = kwargs.pop("key")
        else:
            env = os.getenv("LANGGRAPH_AES_KEY")
            if env is None:
                raise ValueError("LANGGRAPH_AES_KEY environment variable is not set.")
            key = env.encode()
            if len(key) not in (16, 24, 32):
                raise ValueError("LANGGRAPH_AES_KEY must be 16, 24, or 32 bytes long.")
        if kwargs.get("mode") is None:
            kwargs["mode"] = AES.MODE_EAX
        return cls(_AesCipher(AES, key, kwargs), serde)


class _AesCipher:
    def __init__(self, aes: Any, key: bytes, options: dict[str, Any]) -> None:
        self._aes = aes
        self._key = key
        self._options = options

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        cipher = self._aes.new(self._key, **self._options)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return "aes", cipher.nonce + tag + ciphertext

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername != "aes":
            raise ValueError(f"Unsupported cipher: {ciphername}")
        nonce, tag, body = ciphertext[:16], ciphertext[16:32], ciphertext[32:]
        cipher = self._aes.new(self._key, **self._options, nonce=nonce)
        return bytes(cipher.decrypt_and_verify(body, tag))


Value = TypeVar("Value", covariant=True)
Update = TypeVar("Update", contravariant=True)
C = TypeVar("C")


class ChannelProtocol(Protocol[Value, Update, C]):
    """What a channel offers the checkpoint helpers (``create_checkpoint``)."""

    @property
    def ValueType(self) -> Any: ...

    @property
    def UpdateType(self) -> Any: ...

    def checkpoint(self) -> C | None: ...

    def from_checkpoint(self, checkpoint: C | None) -> Self: ...

    def update(self, values: Sequence[Update]) -> bool: ...

    def get(self) -> Value: ...

    def consume(self) -> bool: ...


@runtime_checkable
class SendProtocol(Protocol):
    """What a ``Send`` offers the serializer: a target node and its argument."""

    node: str
    arg: Any

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

    def __eq__(self, value: object) -> bool: ...


