// sigstore 4.1 signs a blob (hashedrekord, bundle v0.2) and an attestation (dsse, bundle v0.3) against our CA and
// Rekor v1 log with a development token; @sigstore/verify 3.1 verifies both against our trusted root with an
// identity and issuer policy. Writes blob.txt, blob.sigstore.json, blob.intoto.sigstore.json to INTEROP_OUT_DIR,
// so our own CLI can verify the same bundles afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  IN_TOTO, current, identity, issuer, signOptions, statementFor, tlogEntry, verifyCurrent, writeArtifact, writeJson,
} from './lib.mjs';

const artifact = writeArtifact('blob.txt');

test('sigstore.sign: message signature bundle verifies with @sigstore/verify 3.1', async () => {
  const bundle = await current.sigstore.sign(artifact.data, signOptions());
  writeJson('blob.sigstore.json', bundle);
  assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle+json;version=0.2');
  const entry = tlogEntry(bundle);
  assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
  assert.ok(entry.inclusionPromise?.signedEntryTimestamp, 'the entry has a SET');
  assert.ok(entry.inclusionProof?.checkpoint?.envelope, 'the entry has an inclusion proof and checkpoint');

  const signer = verifyCurrent(bundle, artifact.data);
  assert.equal(signer.identity.subjectAlternativeName, identity());
  assert.equal(signer.identity.extensions.issuer, issuer());
});

test('sigstore.attest: DSSE bundle verifies with @sigstore/verify 3.1', async () => {
  const bundle = await current.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions());
  writeJson('blob.intoto.sigstore.json', bundle);
  assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(tlogEntry(bundle).kindVersion, { kind: 'dsse', version: '0.0.1' });

  const signer = verifyCurrent(bundle, undefined);
  assert.equal(signer.identity.subjectAlternativeName, identity());
});

test('sigstore.attest with legacyCompatibility: intoto 0.0.2 entry verifies with @sigstore/verify 3.1', async () => {
  const bundle = await current.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions({ legacyCompatibility: true }));
  assert.deepEqual(tlogEntry(bundle).kindVersion, { kind: 'intoto', version: '0.0.2' });
  verifyCurrent(bundle, undefined);
});
