"""What the endpoints do, apart from HTTP: the api modules parse a request, call one of
these, and encode what it returns. Problems are ``ApiError``s with LangGraph's statuses."""

__all__ = ()
