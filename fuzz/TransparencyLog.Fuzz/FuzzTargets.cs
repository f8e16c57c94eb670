using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using CaProtoJson = TransparencyLog.CaService.Api.ProtoJson;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Timestamping;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.Rekor.V2;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;
using TransparencyLog.Sigstore.Verification;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Fuzz;

/// <summary>
/// One fuzz target: the real parser an endpoint or client calls on untrusted bytes, and the exception types that
/// parser documents as its format errors (what the caller turns into a 4xx or a refusal). Any other exception escaping
/// <see cref="Run"/> is a crash: afl++ records the input.
/// </summary>
internal sealed record FuzzTarget(string Name, string Description, Action<byte[]> Parse, params Type[] Expected)
{
    public void Run(byte[] input)
    {
        try
        {
            Parse(input);
        }
        catch (Exception e) when (IsExpected(e))
        {
            // A documented format error: the caller answers it as bad input.
        }
    }

    public bool IsExpected(Exception e) => Expected.Any(t => t.IsInstanceOfType(e));
}

/// <summary>The table of targets, one per parser of untrusted bytes; each mirrors what its production caller does.</summary>
internal static class FuzzTargets
{
    // The log service's limits as configured by default (appsettings.json leaves them at these values).
    // Lazy: under afl-fuzz, instrumented code may run only inside Fuzzer.Run (before it the trace map is unset), and
    // the option classes below are instrumented product code.
    private static readonly Lazy<EntryLimits> s_entryLimits = new(static () => new LimitsOptions().ToEntryLimits());
    private static readonly Lazy<CertificateTransparencyOptions> s_ctOptions = new(static () => new CertificateTransparencyOptions());
    private static readonly Lazy<int> s_maxTokenLength = new(static () => new IdentityOptions().MaxTokenLength);
    private static readonly Lazy<IReadOnlyList<X509Certificate2>> s_ctRoots = new(CtRoots.Load);
    private static readonly Lazy<TufRoot> s_tufRoot = new(static () => TufRoot.From(SeedKeys.TufTrustedRoot()));
    private static readonly Lazy<NoteVerifier> s_noteVerifier = new(() => new NoteVerifier(SeedKeys.CheckpointVerifierKey));
    private static readonly Lazy<BundleVerifier> s_permissiveVerifier = new(static () =>
        new BundleVerifier(TrustedRoot.Empty, new VerificationOptions { TimestampThreshold = 0, TlogThreshold = 0, CtlogThreshold = 0 }));
    private static readonly Lazy<CertificateIdentityPolicy> s_anyIdentity = new(static () => CertificateIdentityPolicy.Create(null, ".*", null, ".*"));
    private static readonly Lazy<byte[]> s_fuzzKeySpki = new(static () =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfo();
    });

    // Callers read text with a lossy UTF-8 decode (HttpClient.GetStringAsync, File.ReadAllText): so do the targets.
    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("rekor-v1-entry", "POST /api/v1/log/entries: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2 (ProposedEntryParser)",
            input => ProposedEntryParser.Parse(input, s_entryLimits.Value), typeof(EntryRejectedException)),

        new("rekor-v2-entry", "POST /api/v2/log/entries: hashedRekordRequestV002, dsseRequestV002 (RekorV2EntryParser)",
            input => RekorV2EntryParser.Parse(input, s_entryLimits.Value), typeof(EntryRejectedException)),

        new("dsse-envelope", "a DSSE envelope as the dsse and intoto kinds read it (DsseEnvelope.Parse), and as a bundle holds it (Bundle.ParseEnvelope)",
            ParseDsse, typeof(EntryRejectedException), typeof(BundleFormatException)),

        new("artifact-key", "a Rekor publicKey.content / DSSE verifier: base64 of a PEM public key or certificate (ArtifactKey.Parse)",
            input => ArtifactKey.Parse(Text(input), "spec.signature.publicKey.content"), typeof(EntryRejectedException)),

        new("log-public-key", "PEM and DER log keys as tlog and trusted roots load them (LogPublicKey.FromPem, FromSpki), and C2SP verifier keys (NoteVerifierKey.Parse)",
            ParseLogKey, typeof(KeyLoadException), typeof(FormatException)),

        new("ca-public-key", "the CA's publicKeyRequest.publicKey.content: PEM or base64 DER SubjectPublicKeyInfo (SubmittedKey.FromPublicKey)",
            input => SubmittedKey.FromPublicKey(Text(input)).Dispose(), typeof(CaException)),

        new("ca-csr", "the CA's certificateSigningRequest: PEM or DER PKCS#10 (SubmittedKey.FromCsr)",
            input => SubmittedKey.FromCsr(input).Dispose(), typeof(CaException)),

        new("ca-signing-request", "POST /api/v2/signingCert body: protobuf JSON CreateSigningCertificateRequest (ProtoJson.Parse), then its key or CSR",
            ParseSigningRequest, typeof(CaException), typeof(InvalidProtocolBufferException), typeof(InvalidJsonException),
            typeof(JsonException), typeof(DecoderFallbackException), typeof(FormatException)),

        new("jwt", "an OIDC identity token before its signature is checked (UnverifiedToken.Parse and the claims read to pick the issuer and key)",
            ParseToken, typeof(CaException)),

        new("tsa-request-der", "POST /api/v1/timestamp, application/timestamp-query: an RFC 3161 TimeStampReq (TimestampRequestReader.ReadDer)",
            input => TimestampRequestReader.ReadDer(input), typeof(TimestampRequestException)),

        new("tsa-request-json", "POST /api/v1/timestamp, application/json: the timestamp-authority JSON request (TimestampRequestReader.ReadJson)",
            input => TimestampRequestReader.ReadJson(input), typeof(TimestampRequestException)),

        new("ct-chain", "POST /ct/v1/add-chain and add-pre-chain: the JSON chain and its RFC 6962 checks (ParseChain, ChainValidator.Validate)",
            ParseCtChain, typeof(ChainRejectedException)),

        new("checkpoint", "a signed checkpoint from a log: signed-note syntax, checkpoint body, signature check (SignedNote, Checkpoint, NoteVerifier)",
            ParseCheckpoint),

        new("bundle", "a Sigstore bundle, v0.1 to v0.3 (Bundle.Parse)",
            input => Bundle.Parse(Text(input)), typeof(BundleFormatException)),

        new("bundle-verify", "a Sigstore bundle parsed and verified, keyless and with a key, against a root that trusts nothing and thresholds of 0 (Bundle.Parse, BundleVerifier): every check that runs before a signature",
            VerifyBundle, typeof(BundleFormatException), typeof(VerificationException)),

        new("oci-manifest", "a manifest or index from a registry and its descriptors, as image signing, verification and the admission webhook read them (OciManifest.Parse, Children, Config, Subject, Annotations)",
            ParseOciManifest, typeof(OciException)),

        new("trusted-root", "a trusted_root.json and a /api/v2/log/tlogInstance (TrustedRoot.Parse, TrustedRoot.ParseLogInstance)",
            ParseTrustedRoot, typeof(BundleFormatException)),

        new("timestamp-token", "an RFC 3161 timestamp token from a bundle, verified against an empty trust root (Rfc3161Timestamp.Verify)",
            input => Rfc3161Timestamp.Verify(input, TimestampedSignature, TrustedRoot.Empty), typeof(VerificationException)),

        new("tuf-metadata", "a TUF root, timestamp, snapshot or targets file from a mirror: parse, role contents, signatures against a fixed root (TufMetadata.Parse, TufRoot, TufDocuments)",
            ParseTufMetadata, typeof(TufException)),

        new("admission-review", "POST /validate of the admission webhook: the body as the handler reads it (ReviewEvaluator.ParseReview), then ReviewEvaluator (images found, references parsed, a static policy judged)",
            AdmissionTargets.JudgeReview, typeof(ReviewFormatException)),

        new("image-policy", "the admission webhook's policy files: ClusterImagePolicy, TrustRoot and ConfigMap YAML (PolicySet.Load)",
            input => PolicySet.Load([("fuzz.yaml", Text(input))]), typeof(PolicyLoadException)),
    ];

    /// <summary>The signature bytes the timestamp-token seeds were issued over.</summary>
    public static byte[] TimestampedSignature => "the signature a timestamp covers"u8.ToArray();

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    private static void ParseDsse(byte[] input)
    {
        // The envelope always arrives inside a request whose bytes were checked as UTF-8 and parsed as a whole.
        if (!System.Text.Unicode.Utf8.IsValid(input))
        {
            return;
        }

        JsonDocument document;
        try
        {
            // As the request around it is parsed (RekorJson, through JsonInput: UTF-8 and escapes checked).
            document = TransparencyLog.Sigstore.Json.JsonInput.Parse(input);
        }
        catch (JsonException)
        {
            // The envelope is always a JSON value inside an already-parsed request; syntax errors stop earlier.
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            TransparencyLog.Sigstore.Rekor.DsseEnvelope.Parse(root, "spec.proposedContent.envelope", s_entryLimits.Value).Pae();
            if (root.ValueKind == JsonValueKind.Object)
            {
                Bundle.ParseEnvelope(root, "dsseEnvelope").Pae();
            }
        }
    }

    private static void ParseLogKey(byte[] input)
    {
        var text = Text(input);
        if (text.StartsWith("-----", StringComparison.Ordinal))
        {
            LogPublicKey.FromPem(text);
        }
        else if (text.Contains('+', StringComparison.Ordinal) && !text.Contains('\0', StringComparison.Ordinal))
        {
            NoteVerifierKey.Parse(text);
        }
        else
        {
            LogPublicKey.FromSpki(input);
        }
    }

    private static void ParseSigningRequest(byte[] input)
    {
        // The bytes as the REST endpoint passes them: invalid UTF-8 is a JsonException there.
        var request = CaProtoJson.Parse<CreateSigningCertificateRequest>(input);
        switch (request.KeyCase)
        {
            case CreateSigningCertificateRequest.KeyOneofCase.PublicKeyRequest when request.PublicKeyRequest.PublicKey is { } key:
                SubmittedKey.FromPublicKey(key.Content).Dispose();
                break;
            case CreateSigningCertificateRequest.KeyOneofCase.CertificateSigningRequest:
                SubmittedKey.FromCsr(request.CertificateSigningRequest.ToByteArray()).Dispose();
                break;
        }
    }

    private static void ParseToken(byte[] input)
    {
        using var token = UnverifiedToken.Parse(Text(input), s_maxTokenLength.Value);
        _ = token.Algorithm;
        _ = token.KeyId;
        _ = token.Claims.GetString("iss");
        _ = token.Claims.Has("exp");
        if (token.Claims.Root.TryGetProperty("aud", out var aud) && aud.ValueKind == JsonValueKind.Array)
        {
            _ = aud.EnumerateArray().Select(TokenClaims.AsString).ToList();
        }
    }

    private static void ParseCtChain(byte[] input)
    {
        var chain = CertificateTransparencyApi.ParseChain(input, s_ctOptions.Value);
        // The endpoint picks the entry type by route; try both, as add-chain and add-pre-chain would.
        foreach (var type in (ReadOnlySpan<CtEntryType>)[CtEntryType.X509, CtEntryType.Precertificate])
        {
            try
            {
                var validated = ChainValidator.Validate(chain, type, s_ctRoots.Value);
                _ = CtEntries.ExtraData(validated);
            }
            catch (ChainRejectedException)
            {
            }
        }
    }

    private static void ParseCheckpoint(byte[] input)
    {
        var text = Text(input);
        if (SignedNote.TryParse(text, out var body, out _))
        {
            _ = Checkpoint.TryParse(body, out _);
        }

        _ = Checkpoint.TryParse(text, out _);
        _ = s_noteVerifier.Value.TryVerifyCheckpoint(text, out _);
    }

    /// <summary>
    /// As <c>TufUpdater</c> reads a file from a mirror: the size cap and envelope, the role's contents, then the
    /// signatures: a root must be signed by itself and by the trusted root, any other role by the trusted root's keys.
    /// </summary>
    private static void ParseTufMetadata(byte[] input)
    {
        var metadata = TufMetadata.Parse(input);
        var trusted = s_tufRoot.Value;
        switch (metadata.Type)
        {
            case TufMetadata.Root:
                var root = TufRoot.From(metadata);
                root.VerifyRole(TufMetadata.Root, metadata, "the fuzzed root");
                break;
            case TufMetadata.Targets:
                _ = TufDocuments.TargetFiles(metadata);
                break;
            case TufMetadata.Snapshot:
                _ = TufDocuments.MetaEntry(metadata, "targets.json");
                break;
            default:
                _ = TufDocuments.MetaEntry(metadata, "snapshot.json");
                break;
        }

        trusted.VerifyRole(metadata.Type, metadata, "the fuzzed file");
        _ = TufMetadata.Parse(metadata.ToBytes(), metadata.Type);
    }

    /// <summary>
    /// As <c>tlog verify</c> and the admission webhook verify a bundle they were handed. The root trusts nothing and the
    /// thresholds are 0, so every check that runs before a signature or a trusted key decides (times, certificate
    /// extensions, SCT lists, log entry bodies) sees the fuzzed values; both the keyless and the key path run.
    /// </summary>
    private static void VerifyBundle(byte[] input)
    {
        var bundle = Bundle.Parse(Text(input));
        try
        {
            s_permissiveVerifier.Value.Verify(bundle, FuzzedArtifact, s_anyIdentity.Value);
        }
        catch (VerificationException)
        {
        }

        s_permissiveVerifier.Value.VerifyWithKey(bundle, FuzzedArtifact, s_fuzzKeySpki.Value);
    }

    /// <summary>The artifact bundle-verify checks signatures and statement subjects against.</summary>
    private static byte[] FuzzedArtifact => "the artifact a bundle signs"u8.ToArray();

    private static void ParseOciManifest(byte[] input)
    {
        // Served without a Content-Type (the body's mediaType decides), then read as every caller does.
        var manifest = OciManifest.Parse(input, null, "the fuzzed manifest");
        _ = manifest.ArtifactType;
        _ = manifest.Annotations;
        _ = manifest.Config;
        _ = manifest.Subject;
        foreach (var child in manifest.Children)
        {
            _ = child.ToJson();
        }
    }

    private static void ParseTrustedRoot(byte[] input)
    {
        var text = Text(input);
        try
        {
            _ = TrustedRoot.Parse(text).ToJson();
        }
        catch (BundleFormatException)
        {
        }

        TrustedRoot.ParseLogInstance(text);
    }
}

/// <summary>Keys the seed corpus and the targets share, fixed so that seeds made once keep verifying.</summary>
internal static class SeedKeys
{
    // A fuzzing-only Ed25519 seed (it signs nothing but corpus checkpoints): fixed so checkpoint seeds verify.
    private static readonly byte[] s_checkpointSeed = [.. Enumerable.Range(1, 32).Select(static i => (byte)i)];

    public const string CheckpointOrigin = "fuzz.example/log";

    public static NoteSigner CheckpointSigner() => new(CheckpointOrigin, LogSigner.FromSigner(SoftwareSigner.FromEd25519Seed(s_checkpointSeed)));

    public static string CheckpointVerifierKey => CheckpointSigner().VerifierKey;

    // A fuzzing-only Ed25519 seed for every TUF role: fixed so the tuf-metadata seeds verify against TufTrustedRoot().
    private static readonly byte[] s_tufSeed = [.. Enumerable.Range(33, 32).Select(static i => (byte)i)];

    public static LogSigner TufSigner() => LogSigner.FromSigner(SoftwareSigner.FromEd25519Seed(s_tufSeed));

    /// <summary>Root v1 with the one fuzzing key in all four roles (threshold 1), signed by it.</summary>
    public static TufMetadata TufTrustedRoot()
    {
        using var signer = TufSigner();
        var key = TufKey.FromPublicKey(signer.PublicKey);
        var roles = new Dictionary<string, (IReadOnlyList<TufKey>, int)>
        {
            [TufMetadata.Root] = ([key], 1),
            [TufMetadata.Targets] = ([key], 1),
            [TufMetadata.Snapshot] = ([key], 1),
            [TufMetadata.Timestamp] = ([key], 1),
        };
        var root = TufRoot.Build(1, new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), roles);
        root.SignAsync(signer).Completed();
        return root;
    }
}

/// <summary>The CT log's accepted roots for the ct-chain target: fuzz/ct-roots.pem when present, else a fresh one.</summary>
internal static class CtRoots
{
    public static IReadOnlyList<X509Certificate2> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ct-roots.pem");
        if (File.Exists(path))
        {
            var collection = new X509Certificate2Collection();
            collection.ImportFromPemFile(path);
            return [.. collection];
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return [SeedCorpus.CreateRoot(key)];
    }
}
