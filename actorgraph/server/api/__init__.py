"""One module per resource: parse the request, call the service, encode the answer."""

__all__ = ()
