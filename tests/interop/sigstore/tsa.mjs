// With a timestamp authority: the bundle carries an RFC 3161 token from our TSA next to the SET, and verification
// demands both (timestampThreshold 2 in @sigstore/verify 3.1; tsaThreshold 1 plus the tlog in 2.1).
// sign 4.x appends /api/v1/timestamp only to a bare origin, so it gets TSA_URL as is; sign 3.x always appends, so it
// gets the origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  IN_TOTO, current, env, legacy, signOptions, statementFor, tsaOrigin, verifyCurrent, verifyLegacy, writeArtifact,
  writeJson,
} from './lib.mjs';

const artifact = writeArtifact('tsa-blob.txt');

function assertTimestamped(bundle) {
  const tokens = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  assert.equal(tokens.length, 1, 'one RFC 3161 timestamp in the bundle');
  assert.ok(bundle.verificationMaterial.tlogEntries[0].inclusionPromise, 'and a SET');
}

test('sigstore 4.1 sign with tsaServerURL: SET + TSA verify with timestampThreshold 2', async () => {
  const bundle = await current.sigstore.sign(artifact.data, signOptions({ tsaServerURL: env('TSA_URL') }));
  writeJson('tsa-blob.sigstore.json', bundle);
  assertTimestamped(bundle);
  verifyCurrent(bundle, artifact.data, undefined, { thresholds: { timestampThreshold: 2 } });
  verifyLegacy(bundle, artifact.data, undefined, { thresholds: { tsaThreshold: 1 } });
});

test('sigstore 4.1 attest with tsaServerURL: SET + TSA verify with timestampThreshold 2', async () => {
  const bundle = await current.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions({ tsaServerURL: env('TSA_URL') }));
  assertTimestamped(bundle);
  verifyCurrent(bundle, undefined, undefined, { thresholds: { timestampThreshold: 2 } });
});

test('legacy sigstore 3.1 sign with the TSA origin: verifies with tsaThreshold 1 (2.1) and timestampThreshold 2 (3.1)', async () => {
  const bundle = await legacy.sigstore.sign(artifact.data, signOptions({
    identityToken: env('IDENTITY_TOKEN_DISTINCT_SUB'), tsaServerURL: tsaOrigin(),
  }));
  assertTimestamped(bundle);
  verifyLegacy(bundle, artifact.data, undefined, { thresholds: { tsaThreshold: 1 } });
  verifyCurrent(bundle, artifact.data, undefined, { thresholds: { timestampThreshold: 2 } });
});
