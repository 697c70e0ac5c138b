// ts-sdk-bearer.mjs: a comparison peer for make bench. The MCP TypeScript
// SDK server (lib/mcp-app.mjs) behind the SDK's own requireBearerAuth
// middleware, whose verifier is jose: createRemoteJWKSet on the jwks_uri
// discovered from BENCH_ISSUER (jose caches the set and refetches on an
// unknown kid) and jwtVerify with issuer BENCH_ISSUER, audience
// BENCH_AUDIENCE and algorithms RS256. requireBearerAuth then requires
// BENCH_SCOPE (space-separated; empty: none) and an unexpired exp.
// Not checked: the token's typ.
//
// Usage: BENCH_LISTEN=127.0.0.1:N BENCH_ISSUER=... BENCH_AUDIENCE=... \
//   BENCH_SCOPE=mcp:tools node ts-sdk-bearer.mjs
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { discover, env, serve } from './lib/mcp-app.mjs';

const issuer = env('BENCH_ISSUER');
const audience = env('BENCH_AUDIENCE');
const requiredScopes = env('BENCH_SCOPE', { optional: true }).split(' ').filter(Boolean);

const { jwks_uri: jwksUri } = await discover(issuer);
const jwks = createRemoteJWKSet(new URL(jwksUri));

const verifier = {
  async verifyAccessToken(token) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] }));
    } catch (err) {
      throw new InvalidTokenError(err.message);
    }
    return {
      token,
      clientId: payload.client_id ?? payload.azp ?? payload.sub,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      expiresAt: payload.exp,
    };
  },
};

serve(requireBearerAuth({ verifier, requiredScopes }));
