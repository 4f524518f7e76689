"""A real MCP client built on the official Python SDK (2.x), driven by the browser/SDK tests.

    mcp_client.py key URL KEY MODE
        Connects with an API key (MODE: '2026-07-28', 'auto' or 'legacy'), lists the tools and
        calls whoami; prints one JSON line: {"protocol": ..., "tools": [...], "whoami": {...}}.

    mcp_client.py oauth URL CLIENT_METADATA_URL REDIRECT_URI
        Connects through OAuth, identifying itself by a client ID metadata document. It prints
        `AUTHORIZE <url>` for the test to open in the browser, then reads one line
        `CALLBACK <redirected url>` from stdin, finishes the flow, calls whoami and prints the
        JSON line as above.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def session_report(client: Client) -> dict:
    tools = await client.list_tools()
    who = await client.call_tool("whoami", {})
    return {
        "protocol": client.protocol_version,
        "tools": [t.name for t in tools.tools],
        "whoami": who.structured_content,
        "is_error": who.is_error,
    }


async def with_key(url: str, key: str, mode: str) -> dict:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        return await session_report(client)


async def with_oauth(url: str, metadata_url: str, redirect_uri: str) -> dict:
    async def redirect_handler(authorization_url: str) -> None:
        print(f"AUTHORIZE {authorization_url}", flush=True)

    async def callback_handler() -> AuthorizationCodeResult:
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        redirected = line.strip().removeprefix("CALLBACK ").strip()
        query = parse_qs(urlparse(redirected).query)
        return AuthorizationCodeResult(
            code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
        )

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Python SDK Host",
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=metadata_url,
    )
    http = httpx2.AsyncClient(auth=provider, timeout=60)
    async with Client(streamable_http_client(url, http_client=http), mode="2026-07-28") as client:
        return await session_report(client)


def main() -> None:
    command = sys.argv[1]
    if command == "key":
        report = asyncio.run(with_key(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif command == "oauth":
        report = asyncio.run(with_oauth(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
