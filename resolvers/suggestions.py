"""No "Did you mean …?" in any error a caller receives.

graphql-core ends the messages of unknown fields, types, arguments, enum values and input
fields (in validation and in variable coercion alike) with suggestions drawn from the
whole schema, hidden fields, types and mutations included. Validation is cached per
document and is the same for every caller, so the suggestions are removed for everyone,
at the one place errors leave the gateway (`gateway.graphql_http`), rather than filtered
per caller on each path that makes them.
"""

from __future__ import annotations

import re

# graphql-core's `did_you_mean`: " Did you mean [<sub message> ]'a', 'b', or 'c'?"; quoted
# GraphQL names hold no "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)
