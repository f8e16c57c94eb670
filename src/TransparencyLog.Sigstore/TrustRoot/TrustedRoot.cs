using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.TrustRoot;

/// <summary>
/// The trust material an offline verifier needs (<c>trusted_root.json</c>): transparency logs, Fulcio-style CAs,
/// CT logs and timestamp authorities. Key rotation is expressed as several entries with validity windows; every
/// lookup is by key ID (or chain) plus time.
/// </summary>
public sealed record TrustedRoot(
    string MediaType,
    IReadOnlyList<TransparencyLogInstance> Tlogs,
    IReadOnlyList<CertificateAuthority> CertificateAuthorities,
    IReadOnlyList<TransparencyLogInstance> Ctlogs,
    IReadOnlyList<CertificateAuthority> TimestampAuthorities)
{
    public const string MediaTypeV01 = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

    /// <summary>The protobuf-specs name of v0.2; read, never written (sigstore-go and cosign reject it).</summary>
    public const string MediaTypeV02 = "application/vnd.dev.sigstore.trustedroot.v0.2+json";

    public const int MaxTrustedRootBytes = 4 * 1024 * 1024;

    private static readonly JsonSerializerOptions s_writeOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TrustedRoot Empty { get; } = new(MediaTypeV01, [], [], [], []);

    /// <summary>Transparency logs with this log ID whose key is valid at <paramref name="time"/>.</summary>
    public IEnumerable<TransparencyLogInstance> FindTlogs(ReadOnlySpan<byte> logId, DateTimeOffset time) => FindLogs(Tlogs, logId, time);

    /// <summary>All transparency logs with this log ID, whatever their validity (for entries without a time).</summary>
    public IEnumerable<TransparencyLogInstance> FindTlogs(ReadOnlySpan<byte> logId)
    {
        var id = logId.ToArray();
        return Tlogs.Where(l => l.LogId.AsSpan().SequenceEqual(id));
    }

    /// <summary>CT logs with this log ID whose key is valid at <paramref name="time"/>.</summary>
    public IEnumerable<TransparencyLogInstance> FindCtlogs(ReadOnlySpan<byte> logId, DateTimeOffset time) => FindLogs(Ctlogs, logId, time);

    public IEnumerable<CertificateAuthority> CertificateAuthoritiesAt(DateTimeOffset time) =>
        CertificateAuthorities.Where(ca => ca.ValidFor.Contains(time));

    public IEnumerable<CertificateAuthority> TimestampAuthoritiesAt(DateTimeOffset time) =>
        TimestampAuthorities.Where(ca => ca.ValidFor.Contains(time));

    private static IEnumerable<TransparencyLogInstance> FindLogs(IReadOnlyList<TransparencyLogInstance> logs, ReadOnlySpan<byte> logId, DateTimeOffset time)
    {
        var id = logId.ToArray();
        return logs.Where(l => l.LogId.AsSpan().SequenceEqual(id) && l.PublicKey.ValidFor.Contains(time));
    }

    private static string OriginOf(Uri baseUrl) => baseUrl.Authority + baseUrl.AbsolutePath.TrimEnd('/');

    /// <summary>
    /// A tlog entry for a log key. Rekor v1 style: log ID = SHA-256(SPKI). With <paramref name="c2spLogId"/> (a
    /// Rekor v2 log), the log ID is the C2SP note key hash SHA-256(name || 0x0A || type || key), as rekor-tiles and
    /// Sigstore's public root have it: its first four bytes are the checkpoint key hint, so no
    /// <c>checkpointKeyId</c> (a v0.2-only field) is needed. The name defaults to the base URL without its scheme
    /// (<c>host[:port][/path]</c>): a log served under a path, such as a Rekor v2 period log, has the path in its origin.
    /// </summary>
    public static TransparencyLogInstance LogFromKey(LogPublicKey key, string baseUrl, ValidityPeriod validFor, bool c2spLogId = false, string? checkpointName = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var details = key.KeyType == LogKeyType.Ed25519 ? "PKIX_ED25519" : "PKIX_ECDSA_P256_SHA_256";
        var logId = c2spLogId ? Notes.NoteKeys.KeyHash(checkpointName ?? OriginOf(new Uri(baseUrl)), key) : key.LogId;
        return new TransparencyLogInstance(baseUrl, "SHA2_256", new TrustedPublicKey(key.Spki, details, validFor), logId);
    }

    /// <summary>A CT log entry from any SPKI the SCT verifier supports (ECDSA P-256/P-384, RSA, Ed25519).</summary>
    public static TransparencyLogInstance CtLogFromSpki(byte[] spki, string baseUrl, ValidityPeriod validFor)
    {
        ArgumentNullException.ThrowIfNull(spki);
        return new TransparencyLogInstance(baseUrl, "SHA2_256", new TrustedPublicKey(spki, KeyDetailsOf(spki), validFor), SHA256.HashData(spki));
    }

    /// <summary>The protobuf <c>PublicKeyDetails</c> name for an SPKI, or <c>PUBLIC_KEY_DETAILS_UNSPECIFIED</c>.</summary>
    public static string KeyDetailsOf(byte[] spki)
    {
        ArgumentNullException.ThrowIfNull(spki);
        try
        {
            var oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
            switch (oid)
            {
                case Oids.Ed25519:
                    return "PKIX_ED25519";
                case Oids.Rsa:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(spki, out _);
                        return $"PKIX_RSA_PKCS1V15_{rsa.KeySize}_SHA256";
                    }

                case Oids.EcPublicKey:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                        return ecdsa.KeySize switch
                        {
                            256 => "PKIX_ECDSA_P256_SHA_256",
                            384 => "PKIX_ECDSA_P384_SHA_384",
                            521 => "PKIX_ECDSA_P521_SHA_512",
                            _ => "PUBLIC_KEY_DETAILS_UNSPECIFIED",
                        };
                    }

                default:
                    return "PUBLIC_KEY_DETAILS_UNSPECIFIED";
            }
        }
        catch (Exception ex) when (ex is CryptographicException or System.Formats.Asn1.AsnContentException or PlatformNotSupportedException)
        {
            return "PUBLIC_KEY_DETAILS_UNSPECIFIED";
        }
    }

    /// <summary>
    /// Composes this root with <paramref name="addition"/> (e.g. a freshly fetched one) for key rotation: entries
    /// already present (same log ID or same chain) are kept as they are; for each new entry, open-ended entries of
    /// the same kind at the same URL are closed at <paramref name="rotationTime"/> and the new one starts then.
    /// </summary>
    public TrustedRoot Merge(TrustedRoot addition, DateTimeOffset rotationTime)
    {
        ArgumentNullException.ThrowIfNull(addition);
        var tlogs = MergeLogs(Tlogs, addition.Tlogs, rotationTime);
        var ctlogs = MergeLogs(Ctlogs, addition.Ctlogs, rotationTime);
        var cas = MergeAuthorities(CertificateAuthorities, addition.CertificateAuthorities, rotationTime);
        var tsas = MergeAuthorities(TimestampAuthorities, addition.TimestampAuthorities, rotationTime);
        return WithMediaTypeFor(new TrustedRoot(MediaType, tlogs, cas, ctlogs, tsas));
    }

    /// <summary>
    /// The form every client accepts: media type <c>application/vnd.dev.sigstore.trustedroot+json;version=0.1</c>
    /// (sigstore-go, and so cosign, refuse any other), and no <c>checkpointKeyId</c> where it only repeats the first
    /// four bytes of the log ID (a Rekor v2 log's ID is the C2SP key hash, whose prefix is the checkpoint key hint).
    /// A checkpoint key ID that says more is kept: sigstore-js reads it, sigstore-go ignores it.
    /// </summary>
    public static TrustedRoot WithMediaTypeFor(TrustedRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return root with
        {
            MediaType = MediaTypeV01,
            Tlogs = [.. root.Tlogs.Select(static t =>
                t.CheckpointKeyId is { } id && t.LogId.Length >= id.Length && t.LogId.AsSpan(0, id.Length).SequenceEqual(id) ? t with { CheckpointKeyId = null } : t)],
        };
    }

    private static List<TransparencyLogInstance> MergeLogs(
        IReadOnlyList<TransparencyLogInstance> existing, IReadOnlyList<TransparencyLogInstance> added, DateTimeOffset at)
    {
        var result = existing.ToList();
        foreach (var log in added)
        {
            if (result.Any(l => l.LogId.AsSpan().SequenceEqual(log.LogId)))
            {
                continue;
            }

            for (var i = 0; i < result.Count; i++)
            {
                if (result[i].BaseUrl == log.BaseUrl && result[i].PublicKey.ValidFor.End is null)
                {
                    result[i] = result[i] with { PublicKey = result[i].PublicKey with { ValidFor = result[i].PublicKey.ValidFor with { End = at } } };
                }
            }

            result.Add(log with { PublicKey = log.PublicKey with { ValidFor = new ValidityPeriod(at, log.PublicKey.ValidFor.End) } });
        }

        return result;
    }

    private static List<CertificateAuthority> MergeAuthorities(
        IReadOnlyList<CertificateAuthority> existing, IReadOnlyList<CertificateAuthority> added, DateTimeOffset at)
    {
        var result = existing.ToList();
        foreach (var ca in added)
        {
            if (result.Any(c => SameChain(c.CertChain, ca.CertChain)))
            {
                continue;
            }

            for (var i = 0; i < result.Count; i++)
            {
                if (result[i].Uri == ca.Uri && result[i].ValidFor.End is null)
                {
                    result[i] = result[i] with { ValidFor = result[i].ValidFor with { End = at } };
                }
            }

            result.Add(ca with { ValidFor = new ValidityPeriod(at, ca.ValidFor.End) });
        }

        return result;
    }

    private static bool SameChain(IReadOnlyList<byte[]> a, IReadOnlyList<byte[]> b) =>
        a.Count == b.Count && a.Zip(b).All(static p => p.First.AsSpan().SequenceEqual(p.Second));

    /// <exception cref="BundleFormatException">Not a trusted root of a known media type, or a required field is missing.</exception>
    public static TrustedRoot Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxTrustedRootBytes)
        {
            throw new BundleFormatException($"the trusted root exceeds {MaxTrustedRootBytes} bytes");
        }

        JsonDocument document;
        try
        {
            document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the trusted root is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BundleFormatException("the trusted root must be a JSON object");
            }

            var mediaType = ProtoJson.String(root, "mediaType", "mediaType");
            if (mediaType is not (MediaTypeV01 or MediaTypeV02 or "application/vnd.dev.sigstore.trustedroot+json;version=0.2"))
            {
                throw new BundleFormatException("unsupported trusted root mediaType (expected application/vnd.dev.sigstore.trustedroot+json;version=0.1 or v0.2)");
            }

            return new TrustedRoot(
                mediaType,
                [.. ProtoJson.Array(root, "tlogs", "tlogs").Select(static e => ParseLog(e, "tlogs[]"))],
                [.. ProtoJson.Array(root, "certificateAuthorities", "certificateAuthorities").Select(static e => ParseAuthority(e, "certificateAuthorities[]"))],
                [.. ProtoJson.Array(root, "ctlogs", "ctlogs").Select(static e => ParseLog(e, "ctlogs[]"))],
                [.. ProtoJson.Array(root, "timestampAuthorities", "timestampAuthorities").Select(static e => ParseAuthority(e, "timestampAuthorities[]"))]);
        }
    }

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["mediaType"] = MediaType,
            ["tlogs"] = new JsonArray([.. Tlogs.Select(static l => (JsonNode?)LogToJson(l))]),
            ["certificateAuthorities"] = new JsonArray([.. CertificateAuthorities.Select(static a => (JsonNode?)AuthorityToJson(a))]),
            ["ctlogs"] = new JsonArray([.. Ctlogs.Select(static l => (JsonNode?)LogToJson(l))]),
            ["timestampAuthorities"] = new JsonArray([.. TimestampAuthorities.Select(static a => (JsonNode?)AuthorityToJson(a))]),
        };
        return root.ToJsonString(s_writeOptions);
    }

    /// <summary>
    /// Parses one <c>TransparencyLogInstance</c> on its own, as the Rekor v2 log serves it at
    /// <c>/api/v2/log/tlogInstance</c>.
    /// </summary>
    /// <exception cref="BundleFormatException">Not a log instance, or a required field is missing.</exception>
    public static TransparencyLogInstance ParseLogInstance(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? ParseLog(document.RootElement, "tlogInstance")
                : throw new BundleFormatException("a transparency log instance must be a JSON object");
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the transparency log instance is not valid JSON");
        }
    }

    private static TransparencyLogInstance ParseLog(JsonElement element, string path)
    {
        var publicKey = ProtoJson.Object(element, "publicKey", $"{path}.publicKey");
        var logId = ProtoJson.Object(element, "logId", $"{path}.logId");
        byte[]? checkpointKeyId = null;
        if (ProtoJson.OptionalObject(element, "checkpointKeyId", $"{path}.checkpointKeyId") is { } ck)
        {
            checkpointKeyId = ProtoJson.Bytes(ck, "keyId", $"{path}.checkpointKeyId.keyId");
        }

        return new TransparencyLogInstance(
            ProtoJson.OptionalString(element, "baseUrl", $"{path}.baseUrl") ?? string.Empty,
            ProtoJson.OptionalString(element, "hashAlgorithm", $"{path}.hashAlgorithm") ?? "SHA2_256",
            new TrustedPublicKey(
                ProtoJson.Bytes(publicKey, "rawBytes", $"{path}.publicKey.rawBytes"),
                ProtoJson.OptionalString(publicKey, "keyDetails", $"{path}.publicKey.keyDetails") ?? "PUBLIC_KEY_DETAILS_UNSPECIFIED",
                ParseValidity(publicKey, $"{path}.publicKey.validFor")),
            ProtoJson.Bytes(logId, "keyId", $"{path}.logId.keyId"),
            checkpointKeyId,
            ProtoJson.OptionalString(element, "operator", $"{path}.operator"));
    }

    private static CertificateAuthority ParseAuthority(JsonElement element, string path)
    {
        DistinguishedName? subject = null;
        if (ProtoJson.OptionalObject(element, "subject", $"{path}.subject") is { } s)
        {
            subject = new DistinguishedName(
                ProtoJson.OptionalString(s, "organization", $"{path}.subject.organization"),
                ProtoJson.OptionalString(s, "commonName", $"{path}.subject.commonName"));
        }

        var chain = ProtoJson.Object(element, "certChain", $"{path}.certChain");
        var certificates = ProtoJson.Array(chain, "certificates", $"{path}.certChain.certificates")
            .Select(c => ProtoJson.Bytes(c, "rawBytes", $"{path}.certChain.certificates[].rawBytes"))
            .ToList();
        if (certificates.Count == 0)
        {
            throw new BundleFormatException($"{path}.certChain.certificates must not be empty");
        }

        return new CertificateAuthority(
            subject,
            ProtoJson.OptionalString(element, "uri", $"{path}.uri"),
            certificates,
            ParseValidity(element, $"{path}.validFor"),
            ProtoJson.OptionalString(element, "operator", $"{path}.operator"));
    }

    private static ValidityPeriod ParseValidity(JsonElement parent, string path)
    {
        if (ProtoJson.OptionalObject(parent, "validFor", path) is not { } v)
        {
            return ValidityPeriod.Unbounded;
        }

        return new ValidityPeriod(ProtoJson.OptionalTime(v, "start", $"{path}.start"), ProtoJson.OptionalTime(v, "end", $"{path}.end"));
    }

    private static JsonObject? ValidityToJson(ValidityPeriod validity)
    {
        if (validity.Start is null && validity.End is null)
        {
            return null;
        }

        var node = new JsonObject();
        if (validity.Start is { } start)
        {
            node["start"] = ProtoJson.FormatTime(start);
        }

        if (validity.End is { } end)
        {
            node["end"] = ProtoJson.FormatTime(end);
        }

        return node;
    }

    private static JsonObject LogToJson(TransparencyLogInstance log)
    {
        var publicKey = new JsonObject
        {
            ["rawBytes"] = Convert.ToBase64String(log.PublicKey.RawBytes),
            ["keyDetails"] = log.PublicKey.KeyDetails,
        };
        if (ValidityToJson(log.PublicKey.ValidFor) is { } validFor)
        {
            publicKey["validFor"] = validFor;
        }

        var node = new JsonObject
        {
            ["baseUrl"] = log.BaseUrl,
            ["hashAlgorithm"] = log.HashAlgorithm,
            ["publicKey"] = publicKey,
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(log.LogId) },
        };
        if (log.CheckpointKeyId is { } checkpointKeyId)
        {
            node["checkpointKeyId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(checkpointKeyId) };
        }

        if (log.Operator is { } op)
        {
            node["operator"] = op;
        }

        return node;
    }

    private static JsonObject AuthorityToJson(CertificateAuthority ca)
    {
        var node = new JsonObject();
        if (ca.Subject is { } subject)
        {
            var s = new JsonObject();
            if (subject.Organization is { } org)
            {
                s["organization"] = org;
            }

            if (subject.CommonName is { } cn)
            {
                s["commonName"] = cn;
            }

            node["subject"] = s;
        }

        if (ca.Uri is { } uri)
        {
            node["uri"] = uri;
        }

        node["certChain"] = new JsonObject
        {
            ["certificates"] = new JsonArray([.. ca.CertChain.Select(static c => (JsonNode?)new JsonObject { ["rawBytes"] = Convert.ToBase64String(c) })]),
        };
        if (ValidityToJson(ca.ValidFor) is { } validFor)
        {
            node["validFor"] = validFor;
        }

        if (ca.Operator is { } op)
        {
            node["operator"] = op;
        }

        return node;
    }
}
