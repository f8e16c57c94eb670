using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Timestamping;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Fuzz;

/// <summary>
/// Writes the seed corpus (<c>fuzz/corpus/&lt;target&gt;/</c>): small valid inputs made by the real code (keys, CSRs,
/// tokens, requests, checkpoints, bundles, trust roots, CT chains) and a few near-misses, so that afl++ starts deep in
/// each parser. Run once with <c>--seeds</c>; the output is committed. Each run makes new keys, so seeds differ by run.
/// </summary>
internal static class SeedCorpus
{
    private static readonly JsonSerializerOptions s_js = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly DateTimeOffset s_now = DateTimeOffset.UtcNow;

    public static void Write(string directory, string ctRootsPath)
    {
        AdmissionSeeds.Write(directory, static (d, t, s) => Seeds(d, t, s));
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var ecdsaPem = PemEncoding.WriteString("PUBLIC KEY", ecdsa.ExportSubjectPublicKeyInfo()) + "\n";
        var rsaPem = PemEncoding.WriteString("PUBLIC KEY", rsa.ExportSubjectPublicKeyInfo()) + "\n";
        using var ed25519 = LogSigner.Generate(LogKeyType.Ed25519);
        var ed25519Pem = ed25519.PublicKeyPem;
        using var leaf = SelfSigned(ecdsa, "CN=sigstore", email: "alice@example.com");
        var leafPem = PemEncoding.WriteString("CERTIFICATE", leaf.RawData) + "\n";
        var artifact = "hello, fuzzer\n"u8.ToArray();
        var digest = SHA256.HashData(artifact);
        var signature = ecdsa.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        // Rekor v1 entries: every kind, key and certificate verifiers, and near-misses.
        var hashedRekord = HashedRekord(digest, signature, ecdsaPem);
        var hashedRekordCert = HashedRekord(digest, signature, leafPem);
        var (envelope, _) = Envelope(ecdsa, """{"_type":"https://in-toto.io/Statement/v1","subject":[]}"""u8.ToArray());
        Seeds(directory, "rekor-v1-entry",
            Json(hashedRekord),
            Json(hashedRekordCert),
            Json(Dsse(envelope, ecdsaPem)),
            Json(Intoto(ecdsa, ecdsaPem)),
            Json(HashedRekord(digest, signature, ed25519Pem)),
            Json(hashedRekord)[..40],
            "{\"kind\":\"\xff\"}"u8.ToArray(),
            """{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"""u8.ToArray());

        // Rekor v2 requests.
        var rawKey = ecdsa.ExportSubjectPublicKeyInfo();
        var verifier = new JsonObject { ["publicKey"] = new JsonObject { ["rawBytes"] = B64(rawKey) }, ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256" };
        var certVerifier = new JsonObject { ["x509Certificate"] = new JsonObject { ["rawBytes"] = B64(leaf.RawData) }, ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256" };
        Seeds(directory, "rekor-v2-entry",
            Json(new JsonObject { ["hashedRekordRequestV002"] = new JsonObject { ["digest"] = B64(digest), ["signature"] = new JsonObject { ["content"] = B64(signature), ["verifier"] = verifier.DeepClone() } } }),
            Json(new JsonObject { ["hashedRekordRequestV002"] = new JsonObject { ["digest"] = B64(digest), ["signature"] = new JsonObject { ["content"] = B64(signature), ["verifier"] = certVerifier.DeepClone() } } }),
            Json(new JsonObject { ["dsseRequestV002"] = new JsonObject { ["envelope"] = JsonNode.Parse(envelope), ["verifiers"] = new JsonArray(verifier.DeepClone()) } }),
            """{"hashedRekordRequestV002":{},"dsseRequestV002":{}}"""u8.ToArray());

        Seeds(directory, "dsse-envelope",
            Encoding.UTF8.GetBytes(envelope),
            """{"payload":"","payloadType":"","signatures":[]}"""u8.ToArray());

        Seeds(directory, "artifact-key",
            Encoding.UTF8.GetBytes(B64(ecdsaPem)),
            Encoding.UTF8.GetBytes(B64(leafPem)),
            Encoding.UTF8.GetBytes(B64(ed25519Pem)),
            Encoding.UTF8.GetBytes(B64(rsaPem)),
            Encoding.UTF8.GetBytes(B64(leafPem + leafPem)));

        var noteSigner = SeedKeys.CheckpointSigner();
        Seeds(directory, "log-public-key",
            Encoding.UTF8.GetBytes(ecdsaPem),
            Encoding.UTF8.GetBytes(ed25519Pem),
            ecdsa.ExportSubjectPublicKeyInfo(),
            ed25519.PublicKeySpki,
            Encoding.UTF8.GetBytes(noteSigner.VerifierKey));

        Seeds(directory, "ca-public-key",
            Encoding.UTF8.GetBytes(ecdsaPem),
            Encoding.UTF8.GetBytes(rsaPem),
            Encoding.UTF8.GetBytes(ed25519Pem),
            Encoding.UTF8.GetBytes(B64(ecdsa.ExportSubjectPublicKeyInfo())));

        var csr = new CertificateRequest("CN=fuzz", ecdsa, HashAlgorithmName.SHA256).CreateSigningRequest();
        var rsaCsr = new CertificateRequest("CN=fuzz", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequest();
        Seeds(directory, "ca-csr",
            csr,
            Encoding.UTF8.GetBytes(PemEncoding.WriteString("CERTIFICATE REQUEST", csr)),
            Encoding.UTF8.GetBytes(PemEncoding.WriteString("NEW CERTIFICATE REQUEST", rsaCsr)));

        var token = Jwt(ecdsa, new JsonObject
        {
            ["iss"] = "http://127.0.0.1:5556",
            ["sub"] = "alice@example.com",
            ["email"] = "alice@example.com",
            ["email_verified"] = true,
            ["aud"] = new JsonArray("sigstore"),
            ["exp"] = s_now.AddMinutes(10).ToUnixTimeSeconds(),
            ["iat"] = s_now.ToUnixTimeSeconds(),
        });
        Seeds(directory, "jwt",
            Encoding.UTF8.GetBytes(token),
            Encoding.UTF8.GetBytes(token[..token.LastIndexOf('.')] + "."),
            "e30.e30.e30"u8.ToArray());

        var proof = ecdsa.SignData(Encoding.UTF8.GetBytes("alice@example.com"), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Seeds(directory, "ca-signing-request",
            Json(new JsonObject
            {
                ["credentials"] = new JsonObject { ["oidcIdentityToken"] = token },
                ["publicKeyRequest"] = new JsonObject
                {
                    ["publicKey"] = new JsonObject { ["algorithm"] = "ECDSA", ["content"] = ecdsaPem },
                    ["proofOfPossession"] = B64(proof),
                },
            }),
            Json(new JsonObject
            {
                ["credentials"] = new JsonObject { ["oidcIdentityToken"] = token },
                ["certificateSigningRequest"] = B64(Encoding.UTF8.GetBytes(PemEncoding.WriteString("CERTIFICATE REQUEST", csr))),
            }));

        var request = TimeStampReq("2.16.840.1.101.3.4.2.1", digest, policy: null, nonce: 0x010203, certReq: true);
        var policyRequest = TimeStampReq("2.16.840.1.101.3.4.2.3", SHA512.HashData(artifact), policy: "1.2.3.4", nonce: null, certReq: false);
        Seeds(directory, "tsa-request-der", request, policyRequest, request[..20]);
        Seeds(directory, "tsa-request-json",
            Json(new JsonObject { ["artifactHash"] = B64(digest), ["hashAlgorithm"] = "sha256", ["certificates"] = true, ["nonce"] = 123456789, ["tsaPolicyOID"] = "1.2.3.4" }),
            """{"artifactHash":"","hashAlgorithm":"sha512","nonce":-1}"""u8.ToArray());

        var tokenRequest = TimeStampReq("2.16.840.1.101.3.4.2.1", SHA256.HashData(FuzzTargets.TimestampedSignature), policy: null, nonce: 7, certReq: true);
        Seeds(directory, "timestamp-token", TimestampToken(tokenRequest), TimestampToken(request), [0x30, 0x03, 0x02, 0x01, 0x00]);

        // CT chains against a fixed root (written next to the corpus so that the target accepts the seeds).
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = CreateRoot(rootKey);
        File.WriteAllText(ctRootsPath, PemEncoding.WriteString("CERTIFICATE", root.RawData) + "\n");
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issued = Issue(root, rootKey, leafKey, precertificate: false);
        using var precert = Issue(root, rootKey, leafKey, precertificate: true);
        Seeds(directory, "ct-chain",
            Json(new JsonObject { ["chain"] = new JsonArray(B64(issued.RawData), B64(root.RawData)) }),
            Json(new JsonObject { ["chain"] = new JsonArray(B64(precert.RawData)) }),
            Json(new JsonObject { ["chain"] = new JsonArray(B64(leaf.RawData)) }),
            """{"chain":[]}"""u8.ToArray());

        var checkpoint = new Checkpoint(SeedKeys.CheckpointOrigin, 42, SHA256.HashData("root"u8)).ToNoteText();
        var signed = SignedNote.SignAsync(checkpoint, noteSigner).Completed();
        Seeds(directory, "checkpoint",
            Encoding.UTF8.GetBytes(signed),
            Encoding.UTF8.GetBytes(checkpoint),
            Encoding.UTF8.GetBytes(signed.Replace("42", "43", StringComparison.Ordinal)));

        var tlogEntry = new TransparencyLogEntry(
            7, SHA256.HashData(rawKey), new KindVersion("hashedrekord", "0.0.1"), s_now.ToUnixTimeSeconds(), SHA256.HashData("set"u8),
            new InclusionProof(7, SHA256.HashData("root"u8), 8, [SHA256.HashData("a"u8), SHA256.HashData("b"u8)], signed),
            Json(hashedRekord));
        var material = new VerificationMaterial(leaf.RawData, null, null, [tlogEntry], [TimestampToken(request)]);
        var messageBundle = new Bundle(Bundle.MediaTypeV03, material, new MessageSignature(new MessageDigest("SHA2_256", digest), signature), null);
        var dsseBundle = new Bundle(Bundle.MediaTypeV03, material with { Rfc3161Timestamps = [] },
            null, new DsseEnvelope(artifact, "application/vnd.in-toto+json", [new DsseSignature(signature, "")]));
        var legacyBundle = new Bundle(Bundle.MediaTypeV01, material with { Certificate = null, X509CertificateChain = [leaf.RawData] }, messageBundle.MessageSignature, null);
        Seeds(directory, "bundle",
            Encoding.UTF8.GetBytes(messageBundle.ToJson(indented: false)),
            Encoding.UTF8.GetBytes(dsseBundle.ToJson(indented: false)),
            Encoding.UTF8.GetBytes(legacyBundle.ToJson(indented: false)));
        // The same bundles for the verifier; and, since a SET or a timestamp from nobody the root trusts stops it
        // there, the same without them (a Rekor v2 entry: no SET, integratedTime 0) and with no entry at all, so that
        // the certificate, SCT, entry body and signature checks run too.
        var unstamped = material with
        {
            TlogEntries = [tlogEntry with { KindVersion = new KindVersion("hashedrekord", "0.0.2"), IntegratedTime = 0, InclusionPromise = null }],
            Rfc3161Timestamps = [],
        };
        Seeds(directory, "bundle-verify",
            Encoding.UTF8.GetBytes(messageBundle.ToJson(indented: false)),
            Encoding.UTF8.GetBytes(dsseBundle.ToJson(indented: false)),
            Encoding.UTF8.GetBytes(legacyBundle.ToJson(indented: false)),
            Encoding.UTF8.GetBytes((messageBundle with { VerificationMaterial = unstamped }).ToJson(indented: false)),
            Encoding.UTF8.GetBytes((dsseBundle with { VerificationMaterial = unstamped with { TlogEntries = [] } }).ToJson(indented: false)),
            Encoding.UTF8.GetBytes((messageBundle with { VerificationMaterial = unstamped with { TlogEntries = [] } }).ToJson(indented: false)));
        OciSeeds(directory);

        var validity = new ValidityPeriod(s_now.AddDays(-1), null);
        var log = TrustedRoot.LogFromKey(LogPublicKey.FromSpki(rawKey), "http://127.0.0.1:3000", validity);
        var v2Log = TrustedRoot.LogFromKey(ed25519.PublicKey, "http://localhost:3000", validity, c2spLogId: true, checkpointName: "localhost:3000");
        var trustedRoot = new TrustedRoot(
            TrustedRoot.MediaTypeV01,
            [log],
            [new CertificateAuthority(new DistinguishedName("sigstore.dev", "sigstore"), "http://127.0.0.1:5555", [leaf.RawData, root.RawData], validity)],
            [TrustedRoot.CtLogFromSpki(rootKey.ExportSubjectPublicKeyInfo(), "http://127.0.0.1:3000/ct", validity)],
            [new CertificateAuthority(null, "http://127.0.0.1:3000/api/v1/timestamp", [root.RawData], validity)]);
        Seeds(directory, "trusted-root",
            Encoding.UTF8.GetBytes(TrustedRoot.WithMediaTypeFor(trustedRoot).ToJson()),
            Encoding.UTF8.GetBytes(TrustedRoot.WithMediaTypeFor(trustedRoot with { Tlogs = [log, v2Log] }).ToJson()),
            Encoding.UTF8.GetBytes(new TrustedRoot(TrustedRoot.MediaTypeV01, [v2Log], [], [], []).ToJson()[..60]),
            Encoding.UTF8.GetBytes(JsonNode.Parse(TrustedRoot.WithMediaTypeFor(trustedRoot with { Tlogs = [v2Log] }).ToJson())!["tlogs"]![0]!.ToJsonString()));
        TufSeeds(directory);
    }

    /// <summary>An image manifest with a config, layers and a subject; an index with platforms; a referrers index.</summary>
    private static void OciSeeds(string directory)
    {
        var config = new OciDescriptor(MediaTypes.OciConfig, OciDigest.Of("{}"u8), 2);
        var layer = new OciDescriptor(MediaTypes.SimpleSigning, OciDigest.Of("payload"u8), 7, null,
            new Dictionary<string, string> { ["dev.cosignproject.cosign/signature"] = "MEUCIQ==" });
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = "application/vnd.dev.sigstore.bundle.v0.3+json",
            ["config"] = config.ToJson(),
            ["layers"] = new JsonArray(layer.ToJson()),
            ["subject"] = new OciDescriptor(MediaTypes.OciManifest, OciDigest.Of("subject"u8), 7).ToJson(),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2026-12-06T00:00:00Z" },
        };
        var platform = new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" };
        var child = new OciDescriptor(MediaTypes.OciManifest, OciDigest.Of("child"u8), 5).ToJson();
        child["platform"] = platform;
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray(child, new OciDescriptor(MediaTypes.OciManifest, OciDigest.Of("att"u8), 3, "application/vnd.dev.sigstore.bundle.v0.3+json").ToJson()),
        };
        Seeds(directory, "oci-manifest",
            Encoding.UTF8.GetBytes(manifest.ToJsonString()),
            Encoding.UTF8.GetBytes(index.ToJsonString()),
            Encoding.UTF8.GetBytes(new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = MediaTypes.DockerManifest, ["config"] = config.ToJson(), ["layers"] = new JsonArray() }.ToJsonString()));
    }

    /// <summary>Root, targets (with a Sigstore custom field), snapshot and timestamp, all verifying against the fixed fuzzing root.</summary>
    public static void TufSeeds(string directory)
    {
        using var signer = SeedKeys.TufSigner();
        var expires = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var content = "{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}\n"u8.ToArray();
        var targets = TufDocuments.BuildTargets(1, expires, new Dictionary<string, TufTargetFile>
        {
            ["trusted_root.json"] = new(content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), null),
            ["rekor.pub"] = new(178, Convert.ToHexStringLower(SHA256.HashData("rekor"u8)), new JsonObject { ["sigstore"] = new JsonObject { ["usage"] = "Rekor", ["status"] = "Active" } }),
        });
        var snapshot = TufDocuments.BuildSnapshot(1, expires, 1);
        var timestamp = TufDocuments.BuildTimestamp(1, expires, 1);
        foreach (var metadata in new[] { targets, snapshot, timestamp })
        {
            metadata.SignAsync(signer).Completed();
        }

        var root = SeedKeys.TufTrustedRoot().ToBytes();
        Seeds(directory, "tuf-metadata", root, targets.ToBytes(), snapshot.ToBytes(), timestamp.ToBytes(), root[..(root.Length / 2)]);
    }

    public static X509Certificate2 CreateRoot(ECDsa key)
    {
        var request = new CertificateRequest("CN=fuzz CT root", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(s_now.AddDays(-1), s_now.AddYears(10));
    }

    private static X509Certificate2 Issue(X509Certificate2 root, ECDsa rootKey, ECDsa key, bool precertificate)
    {
        var request = new CertificateRequest("CN=fuzz leaf", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        if (precertificate)
        {
            // RFC 6962 §3.1 poison extension: critical, value ASN.1 NULL.
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.11129.2.4.3", [0x05, 0x00], critical: true));
        }

        var generator = X509SignatureGenerator.CreateForECDsa(rootKey);
        return request.Create(root.SubjectName, generator, s_now.AddDays(-1), s_now.AddDays(1), [0x01, 0x02, (byte)(precertificate ? 3 : 4)]);
    }

    private static X509Certificate2 SelfSigned(ECDsa key, string subject, string email)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(email);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(s_now.AddMinutes(-1), s_now.AddMinutes(10));
    }

    /// <summary>RFC 3161 §2.4.1 TimeStampReq, written field by field.</summary>
    private static byte[] TimeStampReq(string hashOid, byte[] hash, string? policy, long? nonce, bool certReq)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(hashOid);
                    writer.WriteNull();
                }

                writer.WriteOctetString(hash);
            }

            if (policy is not null)
            {
                writer.WriteObjectIdentifier(policy);
            }

            if (nonce is { } value)
            {
                writer.WriteInteger(value);
            }

            if (certReq)
            {
                writer.WriteBoolean(true);
            }
        }

        return writer.Encode();
    }

    /// <summary>A token issued by the log service's own TSA code: the ContentInfo inside its TimeStampResp.</summary>
    private static byte[] TimestampToken(byte[] request)
    {
        using var signer = DevelopmentTsaCertificates.LoadOrCreate(null, TimeProvider.System, NullLogger.Instance);
        var authority = new TimestampAuthority(signer, Options.Create(new TimestampingOptions()), TimeProvider.System, NullLogger<TimestampAuthority>.Instance);
        var response = new AsnReader(authority.IssueAsync(TimestampRequestReader.ReadDer(request)).AsTask().GetAwaiter().GetResult(), AsnEncodingRules.DER).ReadSequence();
        response.ReadSequence();
        return response.ReadEncodedValue().ToArray();
    }

    private static JsonObject HashedRekord(byte[] digest, byte[] signature, string pem) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(digest) } },
            ["signature"] = new JsonObject
            {
                ["content"] = B64(signature),
                ["publicKey"] = new JsonObject { ["content"] = B64(pem) },
            },
        },
    };

    private static byte[] Pae(string payloadType, byte[] payload) =>
        [.. Encoding.UTF8.GetBytes($"DSSEv1 {Encoding.UTF8.GetByteCount(payloadType)} {payloadType} {payload.Length} "), .. payload];

    private static (string Envelope, byte[] Pae) Envelope(ECDsa key, byte[] payload)
    {
        const string payloadType = "application/vnd.in-toto+json";
        var pae = Pae(payloadType, payload);
        var signature = key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var envelope = new JsonObject
        {
            ["payload"] = B64(payload),
            ["payloadType"] = payloadType,
            ["signatures"] = new JsonArray(new JsonObject { ["sig"] = B64(signature) }),
        };
        return (envelope.ToJsonString(s_js), pae);
    }

    private static JsonObject Dsse(string envelope, string verifierPem) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "dsse",
        ["spec"] = new JsonObject
        {
            ["proposedContent"] = new JsonObject { ["envelope"] = envelope, ["verifiers"] = new JsonArray(B64(verifierPem)) },
        },
    };

    /// <summary>intoto 0.0.2 as sigstore-js sends it: payload and signatures base64 twice.</summary>
    private static JsonObject Intoto(ECDsa key, string pem)
    {
        const string payloadType = "application/vnd.in-toto+json";
        var payload = """{"_type":"https://in-toto.io/Statement/v0.1","subject":[]}"""u8.ToArray();
        var signature = key.SignData(Pae(payloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["apiVersion"] = "0.0.2",
            ["kind"] = "intoto",
            ["spec"] = new JsonObject
            {
                ["content"] = new JsonObject
                {
                    ["envelope"] = new JsonObject
                    {
                        ["payload"] = B64(Encoding.ASCII.GetBytes(B64(payload))),
                        ["payloadType"] = payloadType,
                        ["signatures"] = new JsonArray(new JsonObject
                        {
                            ["sig"] = B64(Encoding.ASCII.GetBytes(B64(signature))),
                            ["publicKey"] = B64(pem),
                        }),
                    },
                    ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(SHA256.HashData(payload)) },
                },
            },
        };
    }

    private static string Jwt(ECDsa key, JsonObject claims)
    {
        var header = Base64Url(Encoding.UTF8.GetBytes("""{"alg":"ES256","kid":"fuzz","typ":"JWT"}"""));
        var payload = Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static byte[] Json(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(s_js));

    private static void Seeds(string directory, string target, params byte[][] seeds)
    {
        var targetDirectory = Path.Combine(directory, target);
        Directory.CreateDirectory(targetDirectory);
        for (var i = 0; i < seeds.Length; i++)
        {
            File.WriteAllBytes(Path.Combine(targetDirectory, $"seed-{i:D2}"), seeds[i]);
        }
    }
}
