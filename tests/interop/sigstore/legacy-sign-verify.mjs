// The legacy client that @sigstore/cli 0.8.1 bundles (sigstore 3.1.0, @sigstore/sign 3.1.0) signs a blob and an
// attestation against our CA and Rekor v1 log. It proves possession over the token's `sub` (not `email`) because
// our issuer is neither Google nor sigstore's Dex. Its verifier, @sigstore/verify 2.1.1, verifies both: it requires
// every checkpoint signature to verify and the proof's own rootHash/treeSize to equal the checkpoint's.
// The current verifier must accept the legacy bundles too, and the legacy verifier the current client's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  IN_TOTO, current, identity, legacy, signOptions, statementFor, tlogEntry, verifyCurrent, verifyLegacy, writeArtifact,
  writeJson,
} from './lib.mjs';

const artifact = writeArtifact('legacy-blob.txt');

test('legacy sigstore 3.1 sign: verifies with @sigstore/verify 2.1 and 3.1', async () => {
  const bundle = await legacy.sigstore.sign(artifact.data, signOptions());
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
  const bundle = await legacy.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions());
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
