-- Usage, continued (PostgreSQL): a latency histogram per bucket (for p50 and p95), and the hour and
-- day tables that old minute rows roll up into. Histogram bucket i counts calls of at most
-- 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500 ms, and the last one everything slower.
ALTER TABLE usage_minutes ADD COLUMN lat_b0 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b6 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b7 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b8 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b9 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b10 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN lat_b11 BIGINT NOT NULL DEFAULT 0;

CREATE TABLE usage_hours (
    workspace_id   TEXT NOT NULL,
    environment    TEXT NOT NULL,
    hour           BIGINT NOT NULL,
    caller         TEXT NOT NULL,
    tool           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    calls          BIGINT NOT NULL,
    latency_ms_sum BIGINT NOT NULL,
    latency_ms_max BIGINT NOT NULL,
    lat_b0 BIGINT NOT NULL DEFAULT 0,
    lat_b1 BIGINT NOT NULL DEFAULT 0,
    lat_b2 BIGINT NOT NULL DEFAULT 0,
    lat_b3 BIGINT NOT NULL DEFAULT 0,
    lat_b4 BIGINT NOT NULL DEFAULT 0,
    lat_b5 BIGINT NOT NULL DEFAULT 0,
    lat_b6 BIGINT NOT NULL DEFAULT 0,
    lat_b7 BIGINT NOT NULL DEFAULT 0,
    lat_b8 BIGINT NOT NULL DEFAULT 0,
    lat_b9 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, environment, hour, caller, tool, outcome)
);

CREATE TABLE usage_days (
    workspace_id   TEXT NOT NULL,
    environment    TEXT NOT NULL,
    day            BIGINT NOT NULL,
    caller         TEXT NOT NULL,
    tool           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    calls          BIGINT NOT NULL,
    latency_ms_sum BIGINT NOT NULL,
    latency_ms_max BIGINT NOT NULL,
    lat_b0 BIGINT NOT NULL DEFAULT 0,
    lat_b1 BIGINT NOT NULL DEFAULT 0,
    lat_b2 BIGINT NOT NULL DEFAULT 0,
    lat_b3 BIGINT NOT NULL DEFAULT 0,
    lat_b4 BIGINT NOT NULL DEFAULT 0,
    lat_b5 BIGINT NOT NULL DEFAULT 0,
    lat_b6 BIGINT NOT NULL DEFAULT 0,
    lat_b7 BIGINT NOT NULL DEFAULT 0,
    lat_b8 BIGINT NOT NULL DEFAULT 0,
    lat_b9 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, environment, day, caller, tool, outcome)
);
