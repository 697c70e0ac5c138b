// express-jwt.mjs: a comparison peer for make bench, "the seed's stack".
// The MCP TypeScript SDK server (lib/mcp-app.mjs) behind a hand-written
// express middleware: jwks-rsa (jwksClient on the jwks_uri discovered from
// BENCH_ISSUER, with its key cache; getSigningKey by the token's kid) and
// jsonwebtoken's verify with issuer BENCH_ISSUER, audience BENCH_AUDIENCE
// and algorithms RS256, then a check that the scope claim holds every
// scope in BENCH_SCOPE (space-separated; empty: none).
//
// A missing or invalid token gets 401 with WWW-Authenticate: Bearer
// error="invalid_token"; a valid one lacking a scope gets 403
// insufficient_scope (RFC 6750 §3.1). Not checked: the token's typ.
//
// Usage: BENCH_LISTEN=127.0.0.1:N BENCH_ISSUER=... BENCH_AUDIENCE=... \
//   BENCH_SCOPE=mcp:tools node express-jwt.mjs
import jwt from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { discover, env, serve } from './lib/mcp-app.mjs';

const issuer = env('BENCH_ISSUER');
const audience = env('BENCH_AUDIENCE');
const requiredScopes = env('BENCH_SCOPE', { optional: true }).split(' ').filter(Boolean);

const { jwks_uri: jwksUri } = await discover(issuer);
const client = jwksClient({ jwksUri, cache: true });

function getKey(header, callback) {
  client.getSigningKey(header.kid, (err, key) => callback(err, key?.getPublicKey()));
}

function deny(res, status, error, description) {
  res.set('WWW-Authenticate', `Bearer error="${error}", error_description="${description}"`);
  res.status(status).json({ error, error_description: description });
}

function requireJwt(req, res, next) {
  const [type, token] = (req.headers.authorization ?? '').split(' ');
  if (type?.toLowerCase() !== 'bearer' || !token) {
    deny(res, 401, 'invalid_token', 'missing bearer token');
    return;
  }
  jwt.verify(token, getKey, { issuer, audience, algorithms: ['RS256'] }, (err, claims) => {
    if (err) {
      deny(res, 401, 'invalid_token', err.message);
      return;
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (!requiredScopes.every((s) => scopes.includes(s))) {
      deny(res, 403, 'insufficient_scope', 'insufficient scope');
      return;
    }
    // The SDK transport hands req.auth to tool handlers as authInfo.
    req.auth = { token, clientId: claims.client_id ?? claims.azp ?? claims.sub, scopes, expiresAt: claims.exp };
    next();
  });
}

serve(requireJwt);
