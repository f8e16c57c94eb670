// The legacy client that @sigstore/cli 0.8.1 bundles (sigstore 3.1.0, @sigstore/sign 3.1.0) signs a blob and an
// attestation against our CA and Rekor v1 log. It proves possession over the token's `sub` (not `email`) because
// our issuer is neither Google nor sigstore's Dex. Its verifier, @sigstore/verify 2.1.1, verifies both: it requires
// every checkpoint signature to verify and the proof's own rootHash/treeSize to equal the checkpoint's.
// The current verifier must accept the legacy bundles too, and the legacy verifier the current client's.
// Last, the `sigstore attest` command of @sigstore/cli itself, with the token in SIGSTORE_ID_TOKEN (CI=true).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  IN_TOTO, current, env, identity, legacy, outDir, readJson, signOptions, statementFor, tlogEntry, tsaOrigin,
  verifyCurrent, verifyLegacy, writeArtifact, writeJson,
} from './lib.mjs';

const artifact = writeArtifact('legacy-blob.txt');

// A token whose `sub` is not its `email`, so the CA must accept a proof of possession over either (spec §0.8).
const distinctSubToken = env('IDENTITY_TOKEN_DISTINCT_SUB');
const claims = JSON.parse(Buffer.from(distinctSubToken.split('.')[1], 'base64url'));
assert.notEqual(claims.sub, claims.email, 'IDENTITY_TOKEN_DISTINCT_SUB has sub != email');
assert.equal(claims.email, identity());
const legacyOptions = (extra = {}) => signOptions({ identityToken: distinctSubToken, ...extra });

test('legacy sigstore 3.1 sign: verifies with @sigstore/verify 2.1 and 3.1', async () => {
  const bundle = await legacy.sigstore.sign(artifact.data, legacyOptions());
  writeJson('legacy-blob.sigstore.json', bundle);
  const proof = tlogEntry(bundle).inclusionProof;
  const checkpoint = proof.checkpoint.envelope.split('\n');
  assert.equal(checkpoint[1], proof.treeSize, 'checkpoint size equals the proof treeSize');
  assert.equal(checkpoint[2], proof.rootHash, 'checkpoint root equals the proof rootHash');

  const signer = verifyLegacy(bundle, artifact.data);
  assert.equal(signer.identity.subjectAlternativeName, identity());
  verifyCurrent(bundle, artifact.data);
});

test('legacy sigstore 3.1 attest: verifies with @sigstore/verify 2.1 and 3.1', async () => {
  const bundle = await legacy.sigstore.attest(statementFor(artifact), IN_TOTO, legacyOptions());
  writeJson('legacy-blob.intoto.sigstore.json', bundle);
  assert.deepEqual(tlogEntry(bundle).kindVersion, { kind: 'dsse', version: '0.0.1' });
  verifyLegacy(bundle, undefined);
  verifyCurrent(bundle, undefined);
});

test('@sigstore/verify 2.1 verifies bundles from sigstore 4.1', async () => {
  const blob = await current.sigstore.sign(artifact.data, signOptions());
  verifyLegacy(blob, artifact.data);
  const attestation = await current.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions());
  verifyLegacy(attestation, undefined);
});

test('the @sigstore/cli 0.8.1 command line (sigstore attest, token from SIGSTORE_ID_TOKEN) against our services', () => {
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', '@sigstore', 'cli', 'bin', 'run');
  const statement = path.join(outDir, 'cli-statement.json');
  fs.writeFileSync(statement, statementFor(artifact));
  const output = path.join(outDir, 'cli-statement.sigstore.json');
  // sign 3.x appends /api/v1/timestamp to the TSA URL, so it gets the origin.
  execFileSync(process.execPath, [
    cli, 'attest', statement, '--fulcio-url', env('FULCIO_URL'), '--rekor-url', env('REKOR_URL'),
    '--tsa-server-url', tsaOrigin(), '--timeout', '30', '-o', output,
  ], { env: { ...process.env, CI: 'true', SIGSTORE_ID_TOKEN: distinctSubToken }, stdio: ['ignore', 'inherit', 'inherit'] });

  const bundle = readJson(output);
  verifyLegacy(bundle, undefined, undefined, { thresholds: { tsaThreshold: 1 } });
  verifyCurrent(bundle, undefined, undefined, { thresholds: { timestampThreshold: 2 } });
});
