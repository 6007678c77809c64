// A real OpenID Connect provider for the tests: the npm package `oidc-provider` (the certified
// implementation by panva), configured with one confidential client and test users who carry an
// `org_code` claim. Its sign-in page checks the user's password; consent is granted for the one
// client (as a first-party identity provider such as NHS CIS2 or Entra ID does).
//
//   node tests/access/oidc_provider.mjs '<config JSON>'
//   config: {"port": 0, "client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//            "post_logout_redirect_uris": ["..."],
//            "users": {"alice": {"password": "...", "claims": {"name": "...", "org_code": "RAA"}}}}
//
// Prints `ready <issuer>` on standard output once it listens on 127.0.0.1.
import http from 'node:http';
import { parse as parseQuery } from 'node:querystring';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const users = config.users;
const SCOPE = 'openid profile email org';

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(parseQuery(body)));
    req.on('error', reject);
  });
}

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1>
${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Continue</button>
</form></body></html>`;
}

const server = http.createServer();
server.listen(config.port || 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris || [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    scopes: ['openid', 'profile', 'email', 'org'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      org: ['org_code'],
    },
    async findAccount(ctx, id) {
      const user = users[id];
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, preferred_username: id, ...user.claims };
        },
      };
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
    cookies: { keys: ['a test key, not a secret'] },
    pkce: { required: () => true },
  });
  const handle = provider.callback();

  server.on('request', async (req, res) => {
    const m = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
    if (!m) { handle(req, res); return; }
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(details.uid));
        return;
      }
      const body = await readBody(req);
      const user = users[body.login];
      if (!user || user.password !== body.password) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(details.uid, 'Wrong username or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: body.login } },
        { mergeWithLastSubmission: false });
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    }
  });
  process.stdout.write(`ready ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
