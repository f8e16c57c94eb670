// TUF interop: unmodified tuf-js 4.1 (what @sigstore/tuf 4.0 runs) and sigstore 4.1 against our mirror.
//   node tuf.mjs fetch                        tuf-js refreshes from TUF_MIRROR with TUF_ROOT_JSON and downloads trusted_root.json
//   node tuf.mjs sigstore-verify --artifact FILE --bundle FILE
//                                             sigstore.verify with tufMirrorURL + tufRootPath (identity IDENTITY_EMAIL, OIDC_ISSUER)
//   node tuf.mjs capture --out FILE           saves the mirror's current timestamp.json (for a later rollback)
//   node tuf.mjs tamper --attack NAME [--old-timestamp FILE]
//                                             a proxy in front of the mirror serves tampered files; tuf-js must refuse them:
//                                             expired-timestamp, rollback, wrong-target, unsigned-targets
// Prints one line per check; exits non-zero when a check fails.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Updater } = require('tuf-js');
const sigstore = require('sigstore');

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    artifact: { type: 'string' },
    bundle: { type: 'string' },
    out: { type: 'string' },
    attack: { type: 'string' },
    'old-timestamp': { type: 'string' },
  },
});
const mirror = process.env.TUF_MIRROR.replace(/\/$/, '');
const rootPath = process.env.TUF_ROOT_JSON;
assert.ok(mirror && rootPath, 'TUF_MIRROR and TUF_ROOT_JSON are required (endpoints.env)');

/** A fresh tuf-js client: its own metadata and target directories, seeded with the initial root. */
function client(base, dirs) {
  const dir = dirs ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tlog-tuf-js-'));
  fs.mkdirSync(path.join(dir, 'targets'), { recursive: true });
  if (!fs.existsSync(path.join(dir, 'root.json'))) {
    fs.copyFileSync(rootPath, path.join(dir, 'root.json'));
  }
  return {
    dir,
    updater: new Updater({
      metadataDir: dir,
      metadataBaseUrl: base,
      targetDir: path.join(dir, 'targets'),
      targetBaseUrl: `${base}/targets`,
      config: { fetchRetries: 0 },
    }),
  };
}

async function download(updater, name) {
  const info = await updater.getTargetInfo(name);
  assert.ok(info, `the repository has no target ${name}`);
  return fs.readFileSync(await updater.downloadTarget(info));
}

/** A proxy to the mirror that rewrites what `tamper` returns for a path (null: forward unchanged). */
async function proxy(tamper) {
  const server = http.createServer(async (req, res) => {
    const upstream = await fetch(mirror + req.url.replace(/^\/tuf/, ''));
    let body = Buffer.from(await upstream.arrayBuffer());
    if (upstream.ok) {
      body = tamper(req.url.replace(/^\/tuf\//, ''), body) ?? body;
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${server.address().port}/tuf` };
}

async function expectRefusal(what, base, errorName, dirs, message) {
  const { updater } = client(base, dirs);
  try {
    await updater.refresh();
    await download(updater, 'trusted_root.json');
  } catch (error) {
    assert.equal(error.constructor.name, errorName, `${what}: expected ${errorName}, got ${error.constructor.name}: ${error.message}`);
    if (message) assert.match(error.message, message);
    console.log(`ok - tuf-js refuses ${what}: ${error.constructor.name}: ${error.message}`);
    return;
  }
  assert.fail(`${what}: tuf-js accepted the tampered mirror`);
}

const mode = positionals[0];
if (mode === 'fetch') {
  const { updater } = client(mirror);
  await updater.refresh();
  const bytes = await download(updater, 'trusted_root.json');
  const root = JSON.parse(bytes);
  assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
  console.log(`ok - tuf-js downloaded trusted_root.json (${bytes.length} bytes, sha256 ${crypto.createHash('sha256').update(bytes).digest('hex')})`);
  for (const name of ['signing_config.v0.2.json', 'rekor.pub']) {
    console.log(`ok - tuf-js downloaded ${name} (${(await download(updater, name)).length} bytes)`);
  }
} else if (mode === 'sigstore-verify') {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlog-sigstore-tuf-'));
  await sigstore.verify(JSON.parse(fs.readFileSync(args.bundle, 'utf8')), fs.readFileSync(args.artifact), {
    tufMirrorURL: mirror,
    tufRootPath: rootPath,
    tufCachePath: cache,
    certificateIdentityEmail: process.env.IDENTITY_EMAIL,
    certificateIssuer: process.env.OIDC_ISSUER,
  });
  console.log(`ok - sigstore 4.1 verified ${args.bundle} with the trusted root from ${mirror}`);
} else if (mode === 'capture') {
  const response = await fetch(`${mirror}/timestamp.json`);
  assert.equal(response.status, 200);
  fs.writeFileSync(args.out, Buffer.from(await response.arrayBuffer()));
  console.log(`ok - captured timestamp.json to ${args.out}`);
} else if (mode === 'tamper') {
  const attack = args.attack;
  if (attack === 'expired-timestamp') {
    // The re-signer stopped: eight days later the 7-day timestamp has expired (root and targets still valid).
    const RealDate = Date;
    const offset = 8 * 24 * 3600 * 1000;
    globalThis.Date = class extends RealDate {
      constructor(...a) {
        if (a.length === 0) super(RealDate.now() + offset); else super(...a);
      }
      static now() {
        return RealDate.now() + offset;
      }
    };
    await expectRefusal('an expired timestamp', mirror, 'ExpiredMetadataError');
  } else if (attack === 'rollback') {
    // The client trusts the current timestamp; the mirror then serves an older one (with an older snapshot).
    const trusted = client(mirror);
    await trusted.updater.refresh();
    const old = fs.readFileSync(args['old-timestamp']);
    const { server, base } = await proxy((file) => (file === 'timestamp.json' ? old : null));
    try {
      await expectRefusal('a rolled-back timestamp and snapshot', base, 'BadVersionError', trusted.dir);
    } finally {
      server.close();
    }
  } else if (attack === 'wrong-target') {
    const { server, base } = await proxy((file, body) => {
      if (!file.startsWith('targets/')) return null;
      const copy = Buffer.from(body);
      copy[copy.length - 2] ^= 0x01;
      return copy;
    });
    try {
      await expectRefusal('a target with wrong bytes', base, 'LengthOrHashMismatchError');
    } finally {
      server.close();
    }
  } else if (attack === 'unsigned-targets') {
    // Below threshold: the targets file keeps its content but loses its signatures.
    const { server, base } = await proxy((file, body) => {
      if (!/^\d+\.targets\.json$/.test(file)) return null;
      const doc = JSON.parse(body);
      doc.signatures = [];
      return Buffer.from(JSON.stringify(doc));
    });
    try {
      // tuf-js wraps the UnsignedMetadataError of a delegated role's load in a RuntimeError naming the count.
      await expectRefusal('targets signed below threshold', base, 'RuntimeError', undefined, /targets was signed by 0\/1 keys/);
    } finally {
      server.close();
    }
  } else if (attack === 'mix-and-match') {
    // Consistent snapshots keep 1.snapshot.json forever, validly signed: served under the name the current timestamp
    // lists, it is a snapshot of another repository state (needs a repository published more than once).
    const first = Buffer.from(await (await fetch(`${mirror}/1.snapshot.json`)).arrayBuffer());
    const timestamp = JSON.parse(Buffer.from(await (await fetch(`${mirror}/timestamp.json`)).arrayBuffer()));
    const current = timestamp.signed.meta['snapshot.json'].version;
    assert.ok(current > 1, `the repository has only snapshot v${current}; publish again first`);
    const { server, base } = await proxy((file) => (file === `${current}.snapshot.json` ? first : null));
    try {
      await expectRefusal('a snapshot of another repository state', base, 'RuntimeError', undefined, /Snapshot version doesn't match timestamp/);
    } finally {
      server.close();
    }
  } else if (attack === 'duplicate-keyid') {
    // One key's signature twice: it must never count twice toward a threshold; tuf-js refuses the whole file.
    const { server, base } = await proxy((file, body) => {
      if (!/^\d+\.targets\.json$/.test(file)) return null;
      const doc = JSON.parse(body);
      doc.signatures = [...doc.signatures, ...doc.signatures];
      return Buffer.from(JSON.stringify(doc));
    });
    try {
      await expectRefusal('a repeated keyid in signatures', base, 'RuntimeError', undefined, /multiple signatures found for keyid/);
    } finally {
      server.close();
    }
  } else {
    assert.fail(`unknown attack ${attack}`);
  }
} else {
  assert.fail('usage: node tuf.mjs fetch|sigstore-verify|capture|tamper');
}
