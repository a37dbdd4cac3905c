"""Drives Quire's MCP endpoint with the official MCP Python SDK.

Usage: python3 tests/mcp/client.py BASE_URL [TOKEN]

Connects to BASE_URL/mcp twice, once with the initialize handshake
(mode="legacy") and once as a current client does by default (mode="auto":
it probes `server/discover` and falls back to the handshake), then lists the
tools, searches, reads the refunds card, matches a ticket and calls an
unknown tool. Prints a line per check; exits 1 at the first failure.
"""

import asyncio
import sys

from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

REFUNDS = "playbooks/refunds/annual-plans"
TOOLS = {"search_cards", "get_card", "match_ticket"}


def check(what, ok, detail=""):
    if not ok:
        print(f"not ok - {what}: {detail}")
        sys.exit(1)
    print(f"ok - {what}")


def text_of(result):
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def session(url, token, mode):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    async with Client(transport, mode=mode) as client:
        check(f"[{mode}] connects ({client.protocol_version})", bool(client.protocol_version))

        tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        check(f"[{mode}] lists the tools", TOOLS <= names, names)
        for tool in tools:
            check(
                f"[{mode}] {tool.name} is described",
                len(tool.description or "") > 40 and tool.input_schema.get("type") == "object",
                tool,
            )

        found = await client.call_tool("search_cards", {"query": "refund annual plan"})
        check(f"[{mode}] search_cards finds the refunds card", REFUNDS in text_of(found), text_of(found))

        card = await client.call_tool("get_card", {"id": REFUNDS})
        text = text_of(card)
        check(f"[{mode}] get_card reads it", "refund" in text.lower() and not card.is_error, text[:200])
        check(
            f"[{mode}] with its trust state",
            any(w in text for w in ("verified", "STALE", "UNVERIFIED")),
            text[:200],
        )

        matched = await client.call_tool(
            "match_ticket",
            {"subject": "Refund?", "body": "<p>We paid for the annual plan and want our money back.</p>"},
        )
        check(f"[{mode}] match_ticket matches the ticket", REFUNDS in text_of(matched), text_of(matched))

        missing = await client.call_tool("get_card", {"id": "no/such/card"})
        check(f"[{mode}] a missing card is a tool error", missing.is_error, missing)

        try:
            unknown = await client.call_tool("delete_everything", {})
            refused = unknown.is_error
        except Exception:  # the SDK may raise on a protocol error instead
            refused = True
        check(f"[{mode}] an unknown tool is refused", refused)


async def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = sys.argv[1].rstrip("/") + "/mcp"
    token = sys.argv[2] if len(sys.argv) > 2 else None
    for mode in ("legacy", "auto"):
        await session(url, token, mode)


asyncio.run(main())
