-- Notices sent through webhooks (PostgreSQL): the last expiry warning of a key, and a workspace's daily
-- usage threshold with the day it last fired.
ALTER TABLE api_keys ADD COLUMN expiry_notice TEXT;                      -- '7d' or '1d'
ALTER TABLE workspaces ADD COLUMN usage_threshold_daily BIGINT;             -- live calls per UTC day; NULL = off
ALTER TABLE workspaces ADD COLUMN usage_threshold_notified_day BIGINT;      -- start (ms) of the UTC day it last fired
