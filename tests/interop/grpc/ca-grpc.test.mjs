// gRPC interop check: @grpc/grpc-js against the CA's h2c port, using proto/fulcio.proto unchanged.
// Inputs (environment): CA_GRPC_ADDRESS (host:port), CA_TOKEN (a valid identity token), CA_PUBLIC_KEY_PEM,
// CA_PROOF (base64 proof of possession). Exits non-zero on the first failed expectation.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoPath = path.resolve(here, '../../../proto/fulcio.proto');
const definition = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
const { CA } = grpc.loadPackageDefinition(definition).dev.sigstore.fulcio.v2;

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
};

const client = new CA(env('CA_GRPC_ADDRESS'), grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve, reject) => {
  client[method](request, { deadline: Date.now() + 10_000 }, (error, response) => (error ? reject(error) : resolve(response)));
});

const results = {};

const configuration = await call('GetConfiguration', {});
assert.ok(configuration.issuers.length > 0, 'configuration lists issuers');
assert.ok(configuration.issuers.every((issuer) => issuer.audience === 'sigstore'), 'audiences are sigstore');
results.configurationIssuers = configuration.issuers.length;

const bundle = await call('GetTrustBundle', {});
assert.ok(bundle.chains.length > 0, 'trust bundle has chains');
assert.match(bundle.chains[0].certificates[0], /^-----BEGIN CERTIFICATE-----\n/);
results.trustBundleChains = bundle.chains.length;

const certificate = await call('CreateSigningCertificate', {
  credentials: { oidcIdentityToken: env('CA_TOKEN') },
  publicKeyRequest: {
    publicKey: { algorithm: 'ECDSA', content: env('CA_PUBLIC_KEY_PEM') },
    proofOfPossession: Buffer.from(env('CA_PROOF'), 'base64'),
  },
});
assert.equal(certificate.certificate, 'signedCertificateEmbeddedSct');
const chain = certificate.signedCertificateEmbeddedSct.chain.certificates;
assert.ok(chain.length >= 2, 'chain has leaf and issuer');
assert.match(chain[0], /^-----BEGIN CERTIFICATE-----\n/);
results.chainLength = chain.length;

try {
  await call('CreateSigningCertificate', { credentials: { oidcIdentityToken: 'not.a-valid.token' } });
  assert.fail('an invalid token must be refused');
} catch (error) {
  assert.equal(error.code, grpc.status.INVALID_ARGUMENT, `expected INVALID_ARGUMENT, got ${error.code} ${error.details}`);
  assert.ok(!error.details.includes('not.a-valid.token'), 'the token is not echoed');
  results.errorCode = error.code;
  results.errorDetails = error.details;
}

client.close();
console.log(JSON.stringify(results));
