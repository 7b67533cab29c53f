"""Import-compatible path: ``EncryptedSerializer`` (AES via pycryptodome)."""

from actorgraph.persistence._serde_protocols import EncryptedSerializer

__all__ = ("EncryptedSerializer",)
