// A second, identical submission to Rekor v1 from @sigstore/sign 4.1's RekorWitness. The log answers 409 with the
// existing entry's Location; fetchOnConflict false (what sigstore.sign() uses) fails with TLOG_CREATE_ENTRY_ERROR,
// fetchOnConflict true fetches the existing entry, which must be the original one and still verify.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { current, env, signOptions, tlogEntry, verifyCurrent, writeArtifact } from './lib.mjs';

const { RekorWitness } = current.sign;
const artifact = writeArtifact('conflict-blob.txt');
const original = await current.sigstore.sign(artifact.data, signOptions());
const entry = tlogEntry(original);

// The signature as @sigstore/sign hands it to a witness, and the certificate PEM exactly as the log stored it.
const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64'));
const certificatePem = Buffer.from(body.spec.signature.publicKey.content, 'base64').toString('utf8');
const protoBundle = current.bundle.bundleFromJSON(original);
const content = { $case: 'messageSignature', messageSignature: protoBundle.content.messageSignature };

const witness = (fetchOnConflict) => new RekorWitness({
  rekorBaseURL: env('REKOR_URL'), fetchOnConflict, retry: 0, timeout: 30000,
});

test('duplicate submission without fetchOnConflict fails with the 409', async () => {
  await assert.rejects(witness(false).testify(content, certificatePem), (error) => {
    assert.equal(error.code, 'TLOG_CREATE_ENTRY_ERROR', `${error.code}: ${error.message}`);
    assert.match(String(error.cause?.message ?? error.message), /409/);
    return true;
  });
});

test('duplicate submission with fetchOnConflict returns the existing entry', async () => {
  const { tlogEntries: [fetched] } = await witness(true).testify(content, certificatePem);
  assert.equal(fetched.logIndex, entry.logIndex, 'the same log index');
  assert.equal(Buffer.from(fetched.canonicalizedBody).toString('base64'), entry.canonicalizedBody, 'the same body');
  assert.ok(fetched.inclusionPromise?.signedEntryTimestamp.length > 0, 'with a SET');
  assert.ok(fetched.inclusionProof?.checkpoint?.envelope, 'with a proof and checkpoint');

  // The fetched entry, in place of the original, still makes a bundle that verifies.
  const bundle = current.bundle.bundleToJSON({
    ...protoBundle,
    verificationMaterial: { ...protoBundle.verificationMaterial, tlogEntries: [fetched] },
  });
  verifyCurrent(bundle, artifact.data);
});
