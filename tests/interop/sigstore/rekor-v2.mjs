// Rekor v2: the low-level @sigstore/sign 4.1 API (FulcioSigner + RekorWitness majorApiVersion 2 + TSAWitness) signs a
// blob and an attestation into our Rekor v2 log. v2 returns no SET and integratedTime 0, so the TSA token is the
// only timestamp. @sigstore/verify 3.1 verifies them against the TRUSTED_ROOT that run.sh wrote, which must carry the
// v2 log's tlogs[] item as GET {REKOR_V2_URL}/api/v2/log/tlogInstance serves it, in the form cosign and sigstore-go
// accept too: media type 0.1 and no checkpointKeyId, since the log ID (the C2SP key hash) starts with the checkpoint
// key hint. The same root minus that item is written to INTEROP_OUT_DIR/rekor-v1-only-trusted-root.json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  IN_TOTO, current, env, statementFor, tlogEntry, token, trustedRoot, verifyCurrent, writeArtifact, writeJson,
} from './lib.mjs';

const { FulcioSigner, RekorWitness, TSAWitness, MessageSignatureBundleBuilder, DSSEBundleBuilder } = current.sign;
const artifact = writeArtifact('v2-blob.txt');

async function v2TrustedRoots() {
  const url = `${env('REKOR_V2_URL')}/api/v2/log/tlogInstance`;
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  const instance = await response.json();
  assert.ok(instance.checkpointKeyId?.keyId, 'the v2 tlog instance has a checkpointKeyId');
  const root = trustedRoot();
  assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', 'TRUSTED_ROOT has the media type every client accepts');
  const isV2 = (tlog) => tlog.logId?.keyId === instance.logId.keyId;
  const listed = root.tlogs.find(isV2);
  assert.ok(listed, 'TRUSTED_ROOT lists the Rekor v2 log');
  assert.equal(listed.checkpointKeyId, undefined, 'no checkpointKeyId (a v0.2-only field)');
  const hint = Buffer.from(listed.logId.keyId, 'base64').subarray(0, 4);
  assert.deepEqual(hint, Buffer.from(instance.checkpointKeyId.keyId, 'base64'), 'the log ID starts with the checkpoint key hint');
  assert.equal(listed.publicKey.rawBytes, instance.publicKey.rawBytes);
  const withoutV2 = { ...root, tlogs: root.tlogs.filter((tlog) => !isV2(tlog)) };
  writeJson('rekor-v1-only-trusted-root.json', withoutV2);
  return { root, withoutV2 };
}

function witnesses() {
  const options = { retry: 1, timeout: 30000 };
  return [
    new RekorWitness({ rekorBaseURL: env('REKOR_V2_URL'), majorApiVersion: 2, ...options }),
    new TSAWitness({ tsaBaseURL: env('TSA_URL'), ...options }),
  ];
}

const signer = () => new FulcioSigner({
  fulcioBaseURL: env('FULCIO_URL'),
  identityProvider: { getToken: async () => token() },
  retry: 1,
  timeout: 30000,
});

const { root, withoutV2 } = await v2TrustedRoots();

function assertV2(bundle, kind) {
  const entry = tlogEntry(bundle);
  assert.deepEqual(entry.kindVersion, { kind, version: '0.0.2' });
  assert.equal(entry.inclusionPromise, undefined, 'v2 returns no SET');
  // integratedTime 0 is the protobuf default, so bundleToJSON leaves it out.
  assert.equal(entry.integratedTime ?? '0', '0', 'v2 returns integratedTime 0');
  assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1, 'one TSA token');
}

test('Rekor v2 hashedrekord 0.0.2 + TSA: verifies with @sigstore/verify 3.1', async () => {
  const builder = new MessageSignatureBundleBuilder({ signer: signer(), witnesses: witnesses() });
  const bundle = current.bundle.bundleToJSON(await builder.create({ data: artifact.data }));
  writeJson('v2-blob.sigstore.json', bundle);
  assertV2(bundle, 'hashedrekord');
  verifyCurrent(bundle, artifact.data, root);
});

test('Rekor v2 dsse 0.0.2 + TSA: verifies with @sigstore/verify 3.1', async () => {
  const builder = new DSSEBundleBuilder({ signer: signer(), witnesses: witnesses() });
  const bundle = current.bundle.bundleToJSON(await builder.create({ data: statementFor(artifact), type: IN_TOTO }));
  writeJson('v2-blob.intoto.sigstore.json', bundle);
  assertV2(bundle, 'dsse');
  verifyCurrent(bundle, undefined, root);
});

test('Rekor v2 bundle is refused without the v2 log in the trusted root', async () => {
  const builder = new MessageSignatureBundleBuilder({ signer: signer(), witnesses: witnesses() });
  const bundle = current.bundle.bundleToJSON(await builder.create({ data: artifact.data }));
  assert.throws(() => verifyCurrent(bundle, artifact.data, withoutV2), (error) => error.code === 'TLOG_INCLUSION_PROOF_ERROR');
});
