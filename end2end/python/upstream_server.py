"""An upstream MCP server built on the official Python SDK (2.x), for the gateway tests: a small
CRM with a tool, a prompt and a resource, served over Streamable HTTP (it speaks revision
2026-07-28, and the older revisions too).

    upstream_server.py PORT [GATEHOUSE_URL]

Its `caller` tool verifies the `Gatehouse-Identity` header the way docs/gateway.md shows: the
signature against Gatehouse's published keys, the issuer, the audience (this server's own URL) and
the expiry.
"""

from __future__ import annotations

import json
import sys

import jwt  # PyJWT, which the mcp SDK depends on
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

PORT = int(sys.argv[1])
GATEHOUSE = sys.argv[2] if len(sys.argv) > 2 else None
MY_URL = f"http://127.0.0.1:{PORT}/mcp"

crm = MCPServer("python-crm")
# Fetches /.well-known/jwks.json when it meets a key id it does not know, and caches the keys.
gatehouse_keys = jwt.PyJWKClient(f"{GATEHOUSE}/.well-known/jwks.json") if GATEHOUSE else None


def verify_identity(token: str) -> dict:
    """The claims of a Gatehouse-Identity assertion, or an exception if it is not genuine."""
    if gatehouse_keys is None:
        raise ValueError("started without GATEHOUSE_URL")
    key = gatehouse_keys.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        issuer=GATEHOUSE,
        audience=MY_URL,
        options={"require": ["iss", "aud", "sub", "exp", "iat"]},
    )

CONTACTS = {"ada": "Ada Lovelace <ada@example.com>", "alan": "Alan Turing <alan@example.com>"}


@crm.tool()
def search_contacts(query: str) -> str:
    """Find contacts whose name contains the query."""
    found = [v for k, v in CONTACTS.items() if query.lower() in k]
    return "\n".join(found) if found else "no contact matches"


@crm.prompt()
def follow_up(name: str) -> str:
    """A follow-up email to a contact."""
    return f"Write a short, friendly follow-up email to {name}."


@crm.resource("crm://contacts/ada")
def ada() -> str:
    """Ada's card."""
    return CONTACTS["ada"]


@crm.tool()
def caller(ctx: Context) -> str:
    """Who is calling, as Gatehouse vouches for it."""
    request = ctx.request_context.request
    token = request.headers.get("gatehouse-identity") if request is not None else None
    if not token:
        raise ToolError("no Gatehouse-Identity header")
    try:
        claims = verify_identity(token)
    except jwt.InvalidTokenError as e:
        raise ToolError(f"not a genuine Gatehouse identity: {e}") from e
    return json.dumps(
        {
            "sub": claims["sub"],
            "via": claims["via"],
            "workspace": claims["workspace"]["slug"],
            "environment": claims["environment"],
            "scopes": claims["scopes"],
        }
    )


if __name__ == "__main__":
    crm.run("streamable-http", host="127.0.0.1", port=PORT, stateless_http=True, json_response=True)
