// discover-register.mjs: what the MCP TypeScript SDK does before a user logs
// in, against a protected MCP server: RFC 9728 discovery from the server URL,
// RFC 8414 / OIDC discovery of its first authorization server, RFC 7591
// registration, and the authorization URL it would open (PKCE S256).
//
//   node discover-register.mjs --url http://127.0.0.1:P/mcp [--redirect URL] [--scope S]
//
// Prints one JSON line {authorization_server, metadata, resource_metadata,
// client, authorization_url}; exits 1 with the error on stderr otherwise.
import { parseArgs } from 'node:util';
import {
  discoverOAuthServerInfo,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { fail, loopbackFetch, randomLoopbackRedirect } from './lib/oauth-util.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    redirect: { type: 'string' },
    scope: { type: 'string' },
  },
});
if (!values.url) fail(new Error('--url is required'));

try {
  const info = await discoverOAuthServerInfo(values.url, { fetchFn: loopbackFetch });
  const redirect = values.redirect ?? randomLoopbackRedirect();
  const client = await registerClient(info.authorizationServerUrl, {
    metadata: info.authorizationServerMetadata,
    clientMetadata: {
      client_name: 'discover-register test (MCP TypeScript SDK)',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    scope: values.scope,
    fetchFn: loopbackFetch,
  });
  const { authorizationUrl } = await startAuthorization(info.authorizationServerUrl, {
    metadata: info.authorizationServerMetadata,
    clientInformation: client,
    redirectUrl: redirect,
    scope: values.scope,
    resource: info.resourceMetadata ? new URL(info.resourceMetadata.resource) : undefined,
  });
  process.stdout.write(JSON.stringify({
    authorization_server: info.authorizationServerUrl,
    metadata: info.authorizationServerMetadata,
    resource_metadata: info.resourceMetadata,
    client,
    authorization_url: authorizationUrl.href,
  }) + '\n');
} catch (err) {
  fail(err);
}
