-- Usage: MCP calls counted per minute (SQLite). Written in batches from memory, never per call.
CREATE TABLE usage_minutes (
    workspace_id   TEXT NOT NULL,
    environment    TEXT NOT NULL,
    minute         INTEGER NOT NULL,      -- unix ms at the start of the minute
    caller         TEXT NOT NULL,         -- key id (or connector id, with OAuth)
    tool           TEXT NOT NULL,
    outcome        TEXT NOT NULL,         -- ok, or the error code
    calls          INTEGER NOT NULL,
    latency_ms_sum INTEGER NOT NULL,
    latency_ms_max INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, environment, minute, caller, tool, outcome)
);
