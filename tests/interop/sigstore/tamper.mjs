// Tampering must be caught: sigstore 4.1 signs a fresh blob (or attestation), one thing is altered, and
// @sigstore/verify 3.1 must reject it with the expected error code. The altered files are written to
// INTEROP_OUT_DIR/<case>/ with case.json (artifact, bundle, trustedRoot, identity, issuer, dsse, code) so that our own
// verifier can be run on exactly the same input.
//   node tamper.mjs <case>
// Cases: artifact-byte, wrong-identity, wrong-issuer, inclusion-proof-hash, set, checkpoint, dsse-payload, untrusted-ca.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  IN_TOTO, assertRejected, clone, current, freshCaCertificate, identity, issuer, outDir, signOptions, statementFor,
  tlogEntry, trustedRoot, verifyCurrent, writeArtifact, writeJson,
} from './lib.mjs';

const name = process.argv[2];
const dir = path.join(outDir, name ?? '');

/** Flips the lowest bit of one byte of a base64 value; the last byte by default (keeps DER structure valid). */
function flipBase64(b64, at = -1) {
  const bytes = Buffer.from(b64, 'base64');
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

/**
 * Signs until the entry's inclusion proof has at least one hash: the first entry of a fresh log (tree size 1) has
 * none to alter, and protobuf-JSON then omits `hashes` altogether.
 */
async function signBlob(artifact) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const bundle = await current.sigstore.sign(artifact.data, signOptions());
    if ((tlogEntry(bundle).inclusionProof.hashes ?? []).length > 0) {
      return bundle;
    }
  }
  throw new Error('the log keeps returning proofs without hashes');
}

const cases = {
  'artifact-byte': async (artifact) => {
    const bundle = await signBlob(artifact);
    const tampered = Buffer.from(artifact.data);
    tampered[0] ^= 0x01;
    return { bundle, artifact: tampered, code: 'SIGNATURE_ERROR' };
  },
  'wrong-identity': async (artifact) => ({
    bundle: await signBlob(artifact), identity: 'mallory@example.com', code: 'UNTRUSTED_SIGNER_ERROR',
  }),
  'wrong-issuer': async (artifact) => ({
    bundle: await signBlob(artifact), issuer: 'https://accounts.example.com', code: 'UNTRUSTED_SIGNER_ERROR',
  }),
  'inclusion-proof-hash': async (artifact) => {
    const bundle = clone(await signBlob(artifact));
    const proof = tlogEntry(bundle).inclusionProof;
    proof.hashes[0] = flipBase64(proof.hashes[0], 0);
    return { bundle, code: 'TLOG_INCLUSION_PROOF_ERROR' };
  },
  set: async (artifact) => {
    const bundle = clone(await signBlob(artifact));
    const promise = tlogEntry(bundle).inclusionPromise;
    promise.signedEntryTimestamp = flipBase64(promise.signedEntryTimestamp);
    return { bundle, code: 'TLOG_INCLUSION_PROMISE_ERROR' };
  },
  checkpoint: async (artifact) => {
    const bundle = clone(await signBlob(artifact));
    const checkpoint = tlogEntry(bundle).inclusionProof.checkpoint;
    const lines = checkpoint.envelope.split('\n');
    // Line 0 is the origin, 1 the tree size, 2 the root hash; change the root the signature covers.
    lines[2] = flipBase64(lines[2], 0);
    checkpoint.envelope = lines.join('\n');
    return { bundle, code: 'TLOG_INCLUSION_PROOF_ERROR' };
  },
  'dsse-payload': async (artifact) => {
    const bundle = clone(await current.sigstore.attest(statementFor(artifact), IN_TOTO, signOptions()));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    statement.predicate.builder = 'someone else';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    return { bundle, dsse: true, code: 'TLOG_BODY_ERROR' };
  },
  'untrusted-ca': async (artifact) => {
    const bundle = await signBlob(artifact);
    const root = trustedRoot();
    const ca = freshCaCertificate().toString('base64');
    root.certificateAuthorities = root.certificateAuthorities.map((authority) => ({
      ...authority, certChain: { certificates: [{ rawBytes: ca }] },
    }));
    return { bundle, trustedRoot: root, code: 'CERTIFICATE_ERROR' };
  },
};

assert.ok(cases[name], `usage: node tamper.mjs <${Object.keys(cases).join('|')}>`);
fs.mkdirSync(dir, { recursive: true });
const artifact = writeArtifact(`${name}.txt`);
const result = await cases[name](artifact);

const artifactFile = path.join(dir, 'artifact.txt');
fs.writeFileSync(artifactFile, result.artifact ?? artifact.data);
const manifest = {
  artifact: artifactFile,
  bundle: writeJson(path.join(dir, 'bundle.json'), result.bundle),
  trustedRoot: writeJson(path.join(dir, 'trusted_root.json'), result.trustedRoot ?? trustedRoot()),
  identity: result.identity ?? identity(),
  issuer: result.issuer ?? issuer(),
  dsse: result.dsse ?? false,
  code: result.code,
};
writeJson(path.join(dir, 'case.json'), manifest);

assertRejected(
  () => verifyCurrent(result.bundle, manifest.dsse ? undefined : fs.readFileSync(artifactFile),
    result.trustedRoot ?? trustedRoot(), { identity: manifest.identity, issuer: manifest.issuer }),
  result.code,
  `@sigstore/verify 3.1, ${name}`);
console.log(`ok: ${name} written to ${dir}`);
