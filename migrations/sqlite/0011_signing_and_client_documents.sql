-- The signing keys published at /.well-known/jwks.json, OAuth clients identified by a client ID
-- metadata document or authenticating with private_key_jwt, OpenID Connect nonces, and the
-- one-time ids (jti) of client assertions (SQLite).

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    algorithm   TEXT NOT NULL,                      -- RS256
    private_key TEXT NOT NULL,                      -- sealed under the server key (gk1.…)
    public_jwk  TEXT NOT NULL,                      -- JSON
    created_at  INTEGER NOT NULL,
    signs_from  INTEGER NOT NULL                    -- published first, used for signing from then on
);

-- 'registered' (dynamic registration) or 'metadata_document' (the id is the document's URL).
ALTER TABLE oauth_clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'registered';
ALTER TABLE oauth_clients ADD COLUMN jwks TEXT;                          -- private_key_jwt: the keys, JSON
ALTER TABLE oauth_clients ADD COLUMN jwks_uri TEXT;                      -- private_key_jwt: where they are
ALTER TABLE oauth_clients ADD COLUMN document_expires_at INTEGER;         -- metadata documents: fetch again after

ALTER TABLE oauth_requests ADD COLUMN nonce TEXT;
ALTER TABLE oauth_codes ADD COLUMN nonce TEXT;

CREATE TABLE oauth_assertion_ids (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
