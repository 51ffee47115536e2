"""httpx's default TLS context, its trust store loaded on the first TLS connection instead of when a client is made.

Loading the CA bundle is most of what making a client costs (about 28 ms); a client that only speaks plain HTTP, as
one pointed at the emulator in a contract test, never needs it. Connections are verified exactly as by httpx's
default: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle, with the hostname checked.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any

from ._errors import ConfigurationError

__all__ = ["DeferredTrustContext"]


class DeferredTrustContext(ssl.SSLContext):
    """A client-side ``SSLContext`` (certificates required, hostnames checked) that loads httpx's trust store just
    before it wraps its first socket or BIO, once, whichever thread gets there first."""

    def __new__(cls) -> DeferredTrustContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        super().__init__()
        self._trusted = False
        self._trusting = threading.Lock()
        # What ssl.create_default_context sets beyond PROTOCOL_TLS_CLIENT's defaults (a test compares the two).
        if sys.version_info >= (3, 13):
            self.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            self.keylog_filename = keylog

    def _trust(self) -> None:
        if self._trusted:
            return
        with self._trusting:
            if not self._trusted:
                cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
                try:
                    if cafile:
                        self.load_verify_locations(cafile=cafile)
                    elif capath:
                        self.load_verify_locations(capath=capath)
                    else:
                        import certifi

                        self.load_verify_locations(cafile=certifi.where())
                except OSError as exc:  # ssl.SSLError too: raised as it is, httpcore would call it a connect error
                    named = (
                        f"SSL_CERT_FILE={cafile!r}" if cafile else f"SSL_CERT_DIR={capath!r}" if capath else "certifi"
                    )
                    reason = exc.strerror or exc
                    raise ConfigurationError(f"the TLS trust store from {named} cannot be loaded: {reason}") from None
                self._trusted = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()
        return super().wrap_bio(*args, **kwargs)
