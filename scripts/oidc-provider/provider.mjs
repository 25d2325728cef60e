// A real OpenID Connect provider (panva's oidc-provider, a certified implementation) for SSOps's
// sign-in tests. Everything it knows comes from one JSON file named on the command line:
//
//   node provider.mjs CONFIG.json
//   { "port": 4455, "clients": [...client metadata...], "jwks": {"keys": [private JWKs]},
//     "accountsFile": "accounts.json" }
//
// accounts.json maps a login name to {"password", "sub", "name", "email", "groups"}; it is read
// again on every look-up, so a test changes someone's groups by rewriting it. Our own pages
// (sign-in, device code, sign-out) replace the library's examples, which load web fonts from
// the internet and accept any password.
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

function accounts() {
  return JSON.parse(readFileSync(config.accountsFile, 'utf8'));
}

function accountBySub(sub) {
  return Object.values(accounts()).find((account) => account.sub === sub);
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>`
    + `</head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

const provider = new Provider(issuer, {
  cookies: { keys: [config.cookieKey] },
  clients: config.clients,
  jwks: config.jwks,
  async findAccount(ctx, sub) {
    const account = accountBySub(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const current = accountBySub(sub) || account;
        return {
          sub,
          name: current.name,
          preferred_username: current.preferred_username,
          email: current.email,
          groups: current.groups,
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // The groups in the ID token itself, as Keycloak, Okta and Entra ID put them there.
  conformIdTokenClaims: false,
  // First-party clients: the grant is given without a consent screen (panva's documented
  // "skip consent" recipe).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, out, err) {
        const message = err ? '<p role="alert">The code is not valid. Try again.</p>' : '';
        ctx.body = page('Device sign-in', `${message}${form}<label for="user_code">Code</label>`
          + '<button type="submit" form="op.deviceInputForm">Continue</button>');
      },
      async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        ctx.body = page('Confirm device', `<p>Code <code>${escape(userCode)}</code> for `
          + `${escape(client.clientName || client.clientId)}</p>${form}`
          + '<button type="submit" form="op.deviceConfirmForm">Allow</button>'
          + '<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>');
      },
      async successSource(ctx) {
        ctx.body = page('Device signed in', '<p>You can return to your terminal.</p>');
      },
    },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the identity provider?', `${form}`
          + '<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>'
          + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the identity provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Provider error', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

function loginPage(uid, error) {
  const message = error ? `<p role="alert">${escape(error)}</p>` : '';
  return page('Sign in to the test provider', `${message}`
    + `<form method="post" action="/interaction/${uid}/login">`
    + '<label>Login <input name="login" autocomplete="username" required></label>'
    + '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>'
    + '<button type="submit">Sign in</button></form>');
}

async function interaction(req, res) {
  const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  const uid = match[1];
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name !== 'login') {
    // Consent is implicit (loadExistingGrant): finish with the grant the provider made.
    await provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'POST' && match[2]) {
    const form = await readForm(req);
    const account = accounts()[form.get('login')];
    if (!account || account.password !== form.get('password')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(uid, 'Wrong login or password.'));
      return;
    }
    await provider.interactionFinished(
      req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false },
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(loginPage(uid));
}

const handle = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Provider error', `<p>${escape(error.message)}</p>`));
    });
    return;
  }
  handle(req, res);
}).listen(config.port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
