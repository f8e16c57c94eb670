// Verifies bundles made by another client (our tlog CLI) with @sigstore/verify 3.1 and the legacy 2.1.
//   node verify.mjs --artifact FILE --bundle BUNDLE [--dsse] [--timestamps N] [--trusted-root FILE] [--legacy]
// Identity and issuer policy: IDENTITY_EMAIL and OIDC_ISSUER. --dsse verifies a DSSE bundle (no artifact signature);
// it also checks that the statement names the artifact's SHA-256 as a subject, as `verify-attestation` does.
// --timestamps is @sigstore/verify 3.1's timestampThreshold (2 = SET and TSA token both required).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { test } from 'node:test';
import { parseArgs } from 'node:util';
import { readJson, trustedRoot, verifyCurrent, verifyLegacy } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    artifact: { type: 'string' },
    bundle: { type: 'string' },
    dsse: { type: 'boolean', default: false },
    timestamps: { type: 'string', default: '1' },
    'trusted-root': { type: 'string' },
    legacy: { type: 'boolean', default: false },
  },
});
assert.ok(args.artifact && args.bundle, 'usage: node verify.mjs --artifact FILE --bundle BUNDLE [--dsse] [--timestamps N] [--legacy]');

const artifact = fs.readFileSync(args.artifact);
const bundle = readJson(args.bundle);
const root = args['trusted-root'] ? readJson(args['trusted-root']) : trustedRoot();
const data = args.dsse ? undefined : artifact;
const timestamps = Number(args.timestamps);

if (args.dsse) {
  test('the DSSE statement names the artifact as a subject', () => {
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    const digest = crypto.createHash('sha256').update(artifact).digest('hex');
    assert.ok(statement.subject.some((s) => s.digest?.sha256 === digest), `no subject with sha256 ${digest}`);
  });
}

test(`@sigstore/verify 3.1 accepts ${args.bundle} (timestampThreshold ${timestamps})`, () => {
  verifyCurrent(bundle, data, root, { thresholds: { timestampThreshold: timestamps } });
});

if (args.legacy) {
  test(`@sigstore/verify 2.1 accepts ${args.bundle}`, () => {
    verifyLegacy(bundle, data, root, { thresholds: { tsaThreshold: timestamps > 1 ? 1 : 0 } });
  });
}
