-- wrk script: one MCP JSON-RPC request per call, as an MCP client sends it over Streamable HTTP.
-- BENCH_BEARER is the key or access token; BENCH_BODY the JSON-RPC message.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_BEARER") or "")
wrk.body = os.getenv("BENCH_BODY")
