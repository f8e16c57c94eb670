// Shared by the scenario scripts: environment, the two client generations, bundle files and verification.
// The current client is sigstore 4.1 / @sigstore/sign 4.1 / @sigstore/verify 3.1 from this package; the legacy one is
// sigstore 3.1 / @sigstore/sign 3.1 / @sigstore/verify 2.1, the copy that @sigstore/cli 0.8.1 ships in its own
// node_modules. Each generation is loaded from its own directory so that it resolves its own dependencies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const legacyModules = path.join(here, 'node_modules', '@sigstore', 'cli', 'node_modules');

/** The current client generation. */
export const current = {
  sigstore: require('sigstore'),
  sign: require('@sigstore/sign'),
  verify: require('@sigstore/verify'),
  bundle: require('@sigstore/bundle'),
  specs: require('@sigstore/protobuf-specs'),
};

/** The legacy generation, as bundled by @sigstore/cli 0.8.1. */
export const legacy = {
  sigstore: require(path.join(legacyModules, 'sigstore')),
  sign: require(path.join(legacyModules, '@sigstore', 'sign')),
  verify: require(path.join(legacyModules, '@sigstore', 'verify')),
  bundle: require(path.join(legacyModules, '@sigstore', 'bundle')),
  specs: require(path.join(legacyModules, '@sigstore', 'protobuf-specs')),
};

/** A required environment variable (the variables of endpoints.env, plus IDENTITY_TOKEN and IDENTITY_EMAIL). */
export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is required (the xunit tests pass endpoints.env and a token)`);
  }
  return value;
}

/** Where this run writes its bundles: INTEROP_OUT_DIR, or a fresh temporary directory. */
export const outDir = process.env.INTEROP_OUT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sigstore-interop-'));
fs.mkdirSync(outDir, { recursive: true });

export const identity = () => env('IDENTITY_EMAIL');
export const issuer = () => env('OIDC_ISSUER');
export const token = () => env('IDENTITY_TOKEN');

/** The signing options of sigstore.sign()/attest() (both generations) against our CA and log. */
export function signOptions(extra = {}) {
  // A generous timeout: the machine is shared, and a timed-out log POST that is retried ends in a fatal 409.
  return {
    fulcioURL: env('FULCIO_URL'),
    rekorURL: env('REKOR_URL'),
    identityToken: token(),
    timeout: 30000,
    retry: 1,
    ...extra,
  };
}

/** An artifact with unique content, written to the output directory. */
export function writeArtifact(name, text = `interop ${name} ${crypto.randomUUID()}\n`) {
  const file = path.join(outDir, name);
  fs.writeFileSync(file, text);
  return { file, data: Buffer.from(text) };
}

/** An in-toto v1 statement whose only subject is the artifact (so `tlog verify-attestation FILE` accepts it). */
export function statementFor(artifact) {
  const digest = crypto.createHash('sha256').update(artifact.data).digest('hex');
  return Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: path.basename(artifact.file), digest: { sha256: digest } }],
    predicateType: 'https://example.com/interop/v1',
    predicate: { builder: 'sigstore-js interop test' },
  }));
}

export const IN_TOTO = 'application/vnd.in-toto+json';

export function writeJson(file, value) {
  const full = path.isAbsolute(file) ? file : path.join(outDir, file);
  fs.writeFileSync(full, JSON.stringify(value, null, 2) + '\n');
  return full;
}

export const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

export const trustedRoot = () => readJson(env('TRUSTED_ROOT'));

/**
 * Verifies a bundle (JSON) with @sigstore/verify 3.x against a trusted root (JSON), with the identity policy.
 * `data` is the artifact for message signatures, undefined for DSSE. Returns the signer; throws VerificationError.
 */
export function verifyCurrent(bundleJson, data, root = trustedRoot(), options = {}) {
  const { Verifier, toTrustMaterial, toSignedEntity } = current.verify;
  const verifier = new Verifier(toTrustMaterial(current.specs.TrustedRoot.fromJSON(root)), {
    ctlogThreshold: 1,
    tlogThreshold: 1,
    timestampThreshold: 1,
    ...options.thresholds,
  });
  return verifier.verify(toSignedEntity(current.bundle.bundleFromJSON(bundleJson), data), policy(options));
}

/** The same with the legacy @sigstore/verify 2.1 (thresholds: ctlogThreshold, tlogThreshold, tsaThreshold). */
export function verifyLegacy(bundleJson, data, root = trustedRoot(), options = {}) {
  const { Verifier, toTrustMaterial, toSignedEntity } = legacy.verify;
  const verifier = new Verifier(toTrustMaterial(legacy.specs.TrustedRoot.fromJSON(root)), {
    ctlogThreshold: 1,
    tlogThreshold: 1,
    ...options.thresholds,
  });
  return verifier.verify(toSignedEntity(legacy.bundle.bundleFromJSON(bundleJson), data), policy(options));
}

function policy(options) {
  const san = options.identity ?? identity();
  return {
    // The SAN is an unanchored regular expression in sigstore-js: anchor it.
    subjectAlternativeName: `^${san.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
    extensions: { issuer: options.issuer ?? issuer() },
  };
}

/** Asserts that `verify()` throws a VerificationError/PolicyError with the given code; returns the error. */
export function assertRejected(verify, code, what) {
  let error;
  try {
    verify();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `${what}: the verifier accepted it`);
  assert.equal(error.code, code, `${what}: expected ${code}, got ${error.code}: ${error.message}`);
  console.log(`  ${what}: rejected with ${error.code} (${error.message})`);
  return error;
}

/** The first tlog entry of a bundle JSON. */
export const tlogEntry = (bundleJson) => bundleJson.verificationMaterial.tlogEntries[0];

/** The signing certificate (DER) of a bundle JSON, v0.2 chain or v0.3 single certificate. */
export function leafCertificate(bundleJson) {
  const material = bundleJson.verificationMaterial;
  const b64 = material.certificate?.rawBytes ?? material.x509CertificateChain?.certificates[0].rawBytes;
  return Buffer.from(b64, 'base64');
}

/** A self-signed P-256 CA certificate (DER) nobody trusts, made with openssl. */
export function freshCaCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untrusted-ca-'));
  try {
    const der = path.join(dir, 'ca.der');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'ca.key'), '-subj', '/O=untrusted/CN=untrusted interop CA', '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-outform', 'DER', '-out', der,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return fs.readFileSync(der);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The TSA URL for sign 3.x, which always appends /api/v1/timestamp: the bare origin of TSA_URL. */
export const tsaOrigin = () => new URL(env('TSA_URL')).origin;

/** A clone, so one bundle can be tampered with in several ways. */
export const clone = (value) => structuredClone(value);
