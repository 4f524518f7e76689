// An in-memory OAuth client provider, as an MCP host keeps one per server: what the SDKs (1.x and
// 2.x share the interface) ask a host for while they discover, identify themselves, send the person
// to consent and keep the tokens.
export class MemoryProvider {
  /** `name` and `redirect` go into the client metadata; `clientMetadataUrl` makes the SDK identify itself by that document. */
  constructor({ name, redirect, clientMetadataUrl } = {}) {
    this.name = name;
    this.redirect = redirect;
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl;
    this.stored = {};
    this.authUrl = undefined;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.stored.client;
  }
  saveClientInformation(info) {
    this.stored.client = info;
  }
  tokens() {
    return this.stored.tokens;
  }
  saveTokens(tokens) {
    this.stored.tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authUrl = url;
  }
  saveCodeVerifier(verifier) {
    this.stored.verifier = verifier;
  }
  codeVerifier() {
    return this.stored.verifier;
  }
}
