"""Schemathesis hooks of tests/openapi_conformance.rs (loaded through SCHEMATHESIS_HOOKS).

`POST /tsa` takes a DER TimeStampReq as `application/timestamp-query` (RFC 3161 §3.4),
a media type schemathesis has no serializer for: its generated bodies go on the wire as
raw bytes, as `application/octet-stream` ones do. Nothing else is changed.
"""

import schemathesis

schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
