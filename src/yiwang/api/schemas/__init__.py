"""Pydantic schemas of the API: query parameters (``*Params``) and answers (``*Out``)."""
