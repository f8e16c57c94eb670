// Verifies a key-signed bundle made by another client (our tlog CLI, `sign-blob --key`) with @sigstore/verify 3.1:
//   node verify-key.mjs --artifact FILE --bundle BUNDLE --trusted-root FILE --public-key PEM_FILE [--tlog-base-url URL]
// The key is found by the bundle's publicKey.hint, as a verifier given a key does. --tlog-base-url also checks that
// the bundle's entry is one the trusted root lists under that baseUrl (which log of several took it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { parseArgs } from 'node:util';
import { current, readJson, tlogEntry } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    artifact: { type: 'string' },
    bundle: { type: 'string' },
    'trusted-root': { type: 'string' },
    'public-key': { type: 'string' },
    'tlog-base-url': { type: 'string' },
  },
});
assert.ok(args.artifact && args.bundle && args['trusted-root'] && args['public-key'],
  'usage: node verify-key.mjs --artifact FILE --bundle BUNDLE --trusted-root FILE --public-key PEM_FILE [--tlog-base-url URL]');

const bundle = readJson(args.bundle);
const root = readJson(args['trusted-root']);
const hint = bundle.verificationMaterial.publicKey?.hint;

if (args['tlog-base-url']) {
  test(`the entry was made by the log at ${args['tlog-base-url']}`, () => {
    const logId = tlogEntry(bundle).logId.keyId;
    const listed = root.tlogs.filter((t) => t.logId.keyId === logId).map((t) => t.baseUrl);
    assert.deepEqual(listed, [args['tlog-base-url']]);
  });
}

test(`@sigstore/verify 3.1 accepts ${args.bundle} with the public key`, () => {
  assert.ok(hint, 'the bundle names its key (publicKey.hint)');
  const { Verifier, toTrustMaterial, toSignedEntity } = current.verify;
  const keys = { [hint]: { rawBytes: fs.readFileSync(args['public-key'], 'utf8') } };
  const verifier = new Verifier(toTrustMaterial(current.specs.TrustedRoot.fromJSON(root), keys), {
    ctlogThreshold: 0,
    tlogThreshold: 1,
    timestampThreshold: 1,
  });
  verifier.verify(toSignedEntity(current.bundle.bundleFromJSON(bundle), fs.readFileSync(args.artifact)));
});
