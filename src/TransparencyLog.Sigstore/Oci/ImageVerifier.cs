using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>
/// What a successful image verification found. <paramref name="VerifiedTlogEntries"/> holds, per signature that passed
/// the checks, its transparency log entries (for checks made beside the bundle, such as a witness quorum).
/// </summary>
public sealed record ImageVerification(
    string Digest, string Source, IReadOnlyList<JsonObject> Payloads, IReadOnlyList<IReadOnlyList<TransparencyLogEntry>>? VerifiedTlogEntries = null);

/// <summary>Where signatures are looked for: both places (bundles first), only the legacy tag, or only bundle referrers.</summary>
public enum SignatureFormat
{
    /// <summary>OCI 1.1 referrers holding a bundle when there are any, else the <c>sha256-HEX.sig</c>/<c>.att</c> tag.</summary>
    Any,

    /// <summary>Only the <c>sha256-HEX.sig</c>/<c>.att</c> tag (cosign's simple-signing layers; policy-controller's <c>legacy</c>).</summary>
    Legacy,

    /// <summary>Only OCI 1.1 referrers holding a sigstore bundle (policy-controller's <c>bundle</c>).</summary>
    Bundle,
}

/// <summary>
/// Finds and verifies the signatures of one image; at least one must pass every check. They are read beside the image,
/// or from <paramref name="signatureRepository"/> when signatures are stored apart (cosign's <c>COSIGN_REPOSITORY</c>):
/// the same <c>sha256-HEX.sig</c>/<c>.att</c> tags and bundle referrers, in that repository.
/// </summary>
public sealed class ImageVerifier(
    RegistryConnections registries,
    BundleVerifier verifier,
    CertificateIdentityPolicy? policy,
    byte[]? key,
    IReadOnlyDictionary<string, string> claims,
    IReadOnlyDictionary<string, string> annotations,
    bool ignoreTlog,
    SignatureFormat format = SignatureFormat.Any,
    ImageReference? signatureRepository = null)
{
    public bool UsesKey => key is not null;

    public bool IgnoreTlog => ignoreTlog;

    public int RoundTrips => registries.RoundTrips;

    // The entries of the signature checked last, kept once that signature passed every check (a payload came out).
    private readonly List<IReadOnlyList<TransparencyLogEntry>> _verifiedEntries = [];
    private IReadOnlyList<TransparencyLogEntry> _checkedEntries = [];

    public async Task<ImageVerification> VerifyAsync(ImageReference image, bool attestation, string? predicateType, CancellationToken cancellationToken)
    {
        _verifiedEntries.Clear();
        var client = registries.For(image);
        var manifest = await ImageResolver.ResolveAsync(client, image, cancellationToken);
        var digest = manifest.Digest;
        var stored = signatureRepository ?? image;
        var store = new SignatureStore(signatureRepository is null ? client : registries.For(stored), TimeProvider.System);
        var failures = new List<string>();
        var payloads = new List<JsonObject>();

        IReadOnlyList<(string ManifestDigest, byte[] Bundle)> bundles = format == SignatureFormat.Legacy ? [] : await store.ReadBundlesAsync(stored.Repository, digest, cancellationToken);
        if (bundles.Count > 0 || format == SignatureFormat.Bundle)
        {
            foreach (var (referrer, bytes) in bundles)
            {
                try
                {
                    if (VerifyBundle(image, digest, bytes, attestation, predicateType) is { } payload)
                    {
                        payloads.Add(payload);
                        _verifiedEntries.Add(_checkedEntries);
                    }
                }
                catch (Exception ex) when (ex is VerificationException or OciException)
                {
                    failures.Add($"bundle referrer {referrer}: {Describe(ex)}");
                }
            }

            return Outcome(image, digest, "bundle", payloads, failures, attestation, predicateType, bundles.Count);
        }

        var tag = OciDigest.Tag(digest, attestation ? "att" : "sig");
        var layers = await store.ReadLayersAsync(stored.Repository, tag, cancellationToken);
        foreach (var layer in layers)
        {
            try
            {
                var payload = attestation ? VerifyLegacyAttestation(digest, layer, predicateType) : VerifyLegacySignature(image, digest, layer);
                if (payload is not null)
                {
                    payloads.Add(payload);
                    _verifiedEntries.Add(_checkedEntries);
                }
            }
            catch (Exception ex) when (ex is VerificationException or OciException)
            {
                failures.Add($"{tag} layer {layer.Descriptor.Digest}: {Describe(ex)}");
            }
        }

        return Outcome(image, digest, "legacy", payloads, failures, attestation, predicateType, layers.Count);
    }

    private ImageVerification Outcome(
        ImageReference image, string digest, string source, List<JsonObject> payloads, List<string> failures, bool attestation, string? predicateType, int found)
    {
        if (payloads.Count > 0)
        {
            return new ImageVerification(digest, source, payloads, [.. _verifiedEntries]);
        }

        var what = attestation ? "attestations" : "signatures";
        if (found == 0)
        {
            var where = format switch
            {
                SignatureFormat.Bundle => " as sigstore bundle referrers (signatureFormat bundle)",
                SignatureFormat.Legacy => " in the .sig/.att tag (signatureFormat legacy)",
                _ => string.Empty,
            };
            var elsewhere = signatureRepository is null ? string.Empty : $" in {signatureRepository.RepositoryName}";
            throw new OciException(OciFailure.NoSignatures, $"no {what} found for {image.RepositoryName}@{digest}{elsewhere}{where}", "NO_SIGNATURES");
        }

        if (failures.Count == 0)
        {
            throw new OciException(OciFailure.NoMatchingSignature, $"none of the {found} {what} of {image.RepositoryName}@{digest} has predicate type {predicateType}", "NO_MATCHING_ATTESTATION");
        }

        throw new OciException(
            OciFailure.NoMatchingSignature,
            $"none of the {found} {what} of {image.RepositoryName}@{digest} verified:\n  " + string.Join("\n  ", failures),
            "NO_MATCHING_SIGNATURE");
    }

    private static string Describe(Exception ex) => ex switch
    {
        VerificationException v => $"{v.Code}: {v.Message}",
        OciException { Code: { } code } c => $"{code}: {c.Message}",
        _ => ex.Message,
    };

    /// <summary>A v0.3 bundle over a DSSE in-toto statement: verified, then its subject must be this digest.</summary>
    private JsonObject? VerifyBundle(ImageReference image, string digest, byte[] bytes, bool attestation, string? predicateType)
    {
        Bundle bundle;
        try
        {
            bundle = Bundle.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (BundleFormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"not a valid bundle: {ex.Message}");
        }

        if (bundle.DsseEnvelope is not { } envelope || envelope.PayloadType != CosignFormats.InTotoPayloadType)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the bundle holds no DSSE in-toto envelope");
        }

        var result = Check(bundle, null);
        var statement = ParseStatement(envelope.Payload);
        if (!StatementNamesDigest(statement, digest))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signed statement is about another digest, not {digest}");
        }

        var type = StringOf(statement["predicateType"]) ?? string.Empty;
        if (attestation)
        {
            if (type != predicateType)
            {
                return null;
            }

            return AttestationOutput(statement, result);
        }

        var optional = new JsonObject();
        if (statement["subject"] is JsonArray { Count: > 0 } subjects && subjects[0] is JsonObject first && first["annotations"] is JsonObject subjectAnnotations)
        {
            foreach (var (k, v) in subjectAnnotations)
            {
                optional[k] = v?.DeepClone();
            }
        }

        CheckAnnotations(optional);
        AddIdentity(optional, result);
        return new JsonObject
        {
            ["critical"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["docker-reference"] = image.RepositoryName },
                ["image"] = new JsonObject { ["docker-manifest-digest"] = digest },
                ["type"] = type,
            },
            ["optional"] = optional,
        };
    }

    /// <summary>One <c>.sig</c> layer: signature, certificate and SET rebuilt into a bundle and verified; then the payload's claims.</summary>
    private JsonObject? VerifyLegacySignature(ImageReference image, string digest, StoredLayer layer)
    {
        if (layer.Descriptor.MediaType != MediaTypes.SimpleSigning)
        {
            return null;
        }

        var annotations = layer.Descriptor.Annotations ?? new Dictionary<string, string>();
        var signature = annotations.TryGetValue(CosignFormats.SignatureAnnotation, out var encoded) && encoded.Length > 0
            ? Base64(encoded, "signature")
            : throw new VerificationException(VerificationErrorCode.Bundle, "the layer has no dev.cosignproject.cosign/signature annotation");
        var bundle = LegacyBundle(annotations, new MessageSignature(new MessageDigest("SHA2_256", SHA256.HashData(layer.Content)), signature));
        var result = Check(bundle, layer.Content);

        var payload = ParseObject(layer.Content) ?? throw new VerificationException(VerificationErrorCode.Bundle, "the signed payload is not a JSON object");
        var critical = payload["critical"] as JsonObject;
        if (critical is null || StringOf(critical["type"]) != CosignFormats.SimpleSigningType)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"the signed payload's critical.type is not '{CosignFormats.SimpleSigningType}'");
        }

        var signedDigest = critical["image"] is JsonObject signedImage ? StringOf(signedImage["docker-manifest-digest"]) : null;
        if (signedDigest != digest)
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signature is for another digest ({signedDigest}), not {digest}");
        }

        var reference = (critical["identity"] is JsonObject identity ? StringOf(identity["docker-reference"]) : null) ?? string.Empty;
        if (!NamesRepository(reference, image))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signature's docker-reference '{reference}' is not the repository {image.RepositoryName}");
        }

        var optional = payload["optional"] as JsonObject ?? new JsonObject();
        CheckAnnotations(optional);
        AddIdentity(optional, result);
        if (annotations.TryGetValue(CosignFormats.BundleAnnotation, out var rekorBundle) && rekorBundle.Length > 0)
        {
            // LegacyBundle has parsed it as JSON already (an unparsable one never reaches this line).
            optional["Bundle"] = JsonNode.Parse(rekorBundle);
        }

        payload["optional"] = optional;
        return payload;
    }

    private JsonObject? VerifyLegacyAttestation(string digest, StoredLayer layer, string? predicateType)
    {
        if (layer.Descriptor.MediaType != MediaTypes.DsseEnvelope)
        {
            return null;
        }

        DsseEnvelope envelope;
        try
        {
            // UTF-8 first: the envelope's strings are read only inside ParseEnvelope, where invalid bytes would throw
            // InvalidOperationException instead of a format error.
            using var document = JsonInput.Parse(layer.Content);
            envelope = Bundle.ParseEnvelope(document.RootElement, "layer");
        }
        catch (Exception ex) when (ex is JsonException or BundleFormatException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the layer is not a DSSE envelope");
        }

        if (envelope.Signatures.Count != 1)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the envelope must carry exactly one signature");
        }

        // cosign's .att timestamp covers the layer bytes, not the DSSE signature a bundle's does; the signed entry
        // timestamp is the time evidence checked here, the RFC 3161 annotation is left out.
        var annotations = (layer.Descriptor.Annotations ?? new Dictionary<string, string>())
            .Where(static a => a.Key != CosignFormats.TimestampAnnotation)
            .ToDictionary(StringComparer.Ordinal);
        var bundle = LegacyBundle(annotations, null, envelope);
        var result = Check(bundle, null);
        var statement = ParseStatement(envelope.Payload);
        if (!StatementNamesDigest(statement, digest))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the attestation is about another digest, not {digest}");
        }

        return StringOf(statement["predicateType"]) == predicateType ? AttestationOutput(statement, result) : null;
    }

    private static Bundle LegacyBundle(IReadOnlyDictionary<string, string> annotations, MessageSignature? signature, DsseEnvelope? envelope = null)
    {
        byte[]? certificate = null;
        if (annotations.TryGetValue(CosignFormats.CertificateAnnotation, out var pem) && pem.Length > 0)
        {
            try
            {
                var fields = PemEncoding.Find(pem);
                certificate = Convert.FromBase64String(pem[fields.Base64Data]);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                throw new VerificationException(VerificationErrorCode.Certificate, "the dev.sigstore.cosign/certificate annotation is not a PEM certificate");
            }
        }

        var entries = annotations.TryGetValue(CosignFormats.BundleAnnotation, out var rekor) && rekor.Length > 0
            ? new[] { CosignFormats.ParseRekorBundleAnnotation(rekor) }
            : [];
        var timestamps = annotations.TryGetValue(CosignFormats.TimestampAnnotation, out var tsa) && tsa.Length > 0
            ? new[] { CosignFormats.ParseTimestampAnnotation(tsa) }
            : [];
        var material = new VerificationMaterial(certificate, null, certificate is null ? string.Empty : null, entries, timestamps);
        return new Bundle(Bundle.MediaTypeV03, material, signature, envelope);
    }

    private VerificationResult Check(Bundle bundle, byte[]? artifact)
    {
        _checkedEntries = [];
        var result = CheckSignature(bundle, artifact);
        _checkedEntries = bundle.VerificationMaterial.TlogEntries;
        return result;
    }

    private VerificationResult CheckSignature(Bundle bundle, byte[]? artifact)
    {
        if (key is not null)
        {
            return verifier.VerifyWithKey(bundle, artifact, key);
        }

        var result = verifier.Verify(bundle, artifact, policy!);
        if (claims.Count > 0)
        {
            using var leaf = X509CertificateLoader.LoadCertificate(bundle.VerificationMaterial.LeafCertificate!);
            foreach (var (oid, expected) in claims)
            {
                var actual = leaf.Extensions[oid] is { } extension ? Encoding.UTF8.GetString(extension.RawData) : null;
                if (actual != expected)
                {
                    throw new VerificationException(VerificationErrorCode.UntrustedSigner, $"the certificate's extension {oid} is '{actual}', not '{expected}'");
                }
            }
        }

        return result;
    }

    private void CheckAnnotations(JsonObject optional)
    {
        foreach (var (k, v) in annotations)
        {
            if (optional[k] is not JsonValue value || value.ToString() != v)
            {
                throw new VerificationException(VerificationErrorCode.Subject, $"the signature does not carry the annotation {k}={v}");
            }
        }
    }

    private static void AddIdentity(JsonObject optional, VerificationResult result)
    {
        if (result.Subject is not null)
        {
            optional["Subject"] = result.Subject;
            optional["Issuer"] = result.Issuer;
        }
    }

    private static JsonObject AttestationOutput(JsonObject statement, VerificationResult result)
    {
        var output = new JsonObject { ["statement"] = statement.DeepClone() };
        if (result.Subject is not null)
        {
            output["Subject"] = result.Subject;
            output["Issuer"] = result.Issuer;
        }

        return output;
    }

    private static JsonObject ParseStatement(byte[] payload) =>
        ParseObject(payload) is { } statement && StringOf(statement["_type"]) is "https://in-toto.io/Statement/v1" or "https://in-toto.io/Statement/v0.1"
            ? statement
            : throw new VerificationException(VerificationErrorCode.Bundle, "the envelope's payload is not an in-toto statement");

    /// <summary>
    /// A JSON object, or null when <paramref name="utf8Json"/> is not one. Bytes that are not UTF-8 and repeated member
    /// names are refused here: <see cref="JsonNode"/> would otherwise throw InvalidOperationException or
    /// ArgumentException only when the member is first read.
    /// </summary>
    private static JsonObject? ParseObject(byte[] utf8Json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The string a node holds, or null when it is absent or of another JSON type.</summary>
    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static bool StatementNamesDigest(JsonObject statement, string digest)
    {
        var hex = OciDigest.Hex(digest);
        return statement["subject"] is JsonArray subjects
            && subjects.Any(s => s is JsonObject subject && subject["digest"] is JsonObject digests && StringOf(digests["sha256"]) == hex);
    }

    /// <summary>docker-reference must name the image's repository: bare (cosign), with a tag or with a digest (containers/image).</summary>
    private static bool NamesRepository(string reference, ImageReference image)
    {
        try
        {
            var parsed = ImageReference.Parse(reference);
            return parsed.Registry == image.Registry && parsed.Repository == image.Repository;
        }
        catch (OciException)
        {
            return false;
        }
    }

    private static byte[] Base64(string text, string what)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"the {what} annotation is not base64");
        }
    }
}

/// <summary>Tag or digest to manifest, with cosign's failure kinds for what is missing.</summary>
public static class ImageResolver
{
    public static async Task<OciManifest> ResolveAsync(RegistryClient client, ImageReference image, CancellationToken cancellationToken) =>
        await client.GetManifestAsync(image.Repository, image.Reference, cancellationToken)
            ?? throw new OciException(OciFailure.ImageNotFound, $"{image} does not exist in the registry (no manifest for {image.Reference})", "IMAGE_NOT_FOUND");
}

/// <summary>One <see cref="RegistryClient"/> per registry host for the lifetime of a command or review (tokens are reused).</summary>
public sealed class RegistryConnections(HttpClient http, Func<string, RegistryCredential?> credentials, bool allowInsecure, bool requireTls = false)
{
    private readonly Dictionary<string, RegistryClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public RegistryClient For(ImageReference image)
    {
        lock (_lock)
        {
            if (!_clients.TryGetValue(image.Registry, out var client))
            {
                client = new RegistryClient(http, image.Registry, credentials(image.Registry), allowInsecure, requireTls: requireTls);
                _clients[image.Registry] = client;
            }

            return client;
        }
    }

    public int RoundTrips
    {
        get
        {
            lock (_lock)
            {
                return _clients.Values.Sum(static c => c.RoundTrips);
            }
        }
    }
}
