"""An upstream MCP server built on the official Python SDK (2.x), for the gateway tests: a small
CRM with a tool, a prompt and a resource, served over Streamable HTTP (it speaks revision
2026-07-28, and the older revisions too).

    upstream_server.py PORT
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

crm = MCPServer("python-crm")

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


if __name__ == "__main__":
    crm.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]), stateless_http=True, json_response=True)
