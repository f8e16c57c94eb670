using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>Why an entry matched: which watch-list item, and the value in the entry that satisfied it.</summary>
internal sealed record IdentityMatch(string Rule, string Value, string? Issuer);

/// <summary>
/// rekor-monitor's identity search over one entry body: certificate SANs against <c>certIdentities</c> (with the
/// Fulcio issuer extension) and <c>subjects</c>, SHA-256 fingerprints of certificates and keys, and extension values
/// against the OID matchers. Regular expressions are unanchored, as Go's <c>regexp.MatchString</c> is.
/// </summary>
internal sealed class IdentityMatcher
{
    private const string FulcioIssuerV1 = "1.3.6.1.4.1.57264.1.1";
    private const string FulcioIssuerV2 = "1.3.6.1.4.1.57264.1.8";
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>rekor-monitor's names of Fulcio's extensions (sigstore's OID directory).</summary>
    private static readonly Dictionary<string, string[]> s_fulcioExtensions = new(StringComparer.Ordinal)
    {
        ["issuer"] = [FulcioIssuerV1, FulcioIssuerV2],
        ["github-workflow-trigger"] = ["1.3.6.1.4.1.57264.1.2"],
        ["github-workflow-sha"] = ["1.3.6.1.4.1.57264.1.3"],
        ["github-workflow-name"] = ["1.3.6.1.4.1.57264.1.4"],
        ["github-workflow-repository"] = ["1.3.6.1.4.1.57264.1.5"],
        ["github-workflow-ref"] = ["1.3.6.1.4.1.57264.1.6"],
        ["build-signer-uri"] = ["1.3.6.1.4.1.57264.1.9"],
        ["build-signer-digest"] = ["1.3.6.1.4.1.57264.1.10"],
        ["runner-environment"] = ["1.3.6.1.4.1.57264.1.11"],
        ["source-repository-uri"] = ["1.3.6.1.4.1.57264.1.12"],
        ["source-repository-digest"] = ["1.3.6.1.4.1.57264.1.13"],
        ["source-repository-ref"] = ["1.3.6.1.4.1.57264.1.14"],
        ["source-repository-identifier"] = ["1.3.6.1.4.1.57264.1.15"],
        ["source-repository-owner-uri"] = ["1.3.6.1.4.1.57264.1.16"],
        ["source-repository-owner-identifier"] = ["1.3.6.1.4.1.57264.1.17"],
        ["build-config-uri"] = ["1.3.6.1.4.1.57264.1.18"],
        ["build-config-digest"] = ["1.3.6.1.4.1.57264.1.19"],
        ["build-trigger"] = ["1.3.6.1.4.1.57264.1.20"],
        ["run-invocation-uri"] = ["1.3.6.1.4.1.57264.1.21"],
        ["source-repository-visibility-at-signing"] = ["1.3.6.1.4.1.57264.1.22"],
    };

    private readonly List<(Regex Subject, List<Regex> Issuers, string Rule)> _identities = [];
    private readonly List<(Regex Subject, string Rule)> _subjects = [];
    private readonly HashSet<string> _fingerprints = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Oid, HashSet<string> Values, string Rule)> _extensions = [];

    public IdentityMatcher(MonitoredValues values)
    {
        foreach (var identity in values.CertIdentities)
        {
            _identities.Add((Compile(identity.CertSubject, "certSubject"), [.. identity.Issuers.Select(i => Compile(i, "issuers"))], "certIdentity:" + identity.CertSubject));
        }

        _subjects.AddRange(values.Subjects.Values.Select(s => (Compile(s, "subjects"), "subject:" + s)));
        foreach (var fingerprint in values.Fingerprints.Values)
        {
            _fingerprints.Add(fingerprint.Trim().Replace(":", "", StringComparison.Ordinal));
        }

        foreach (var (name, extensionValues) in values.Oids.FulcioExtensions)
        {
            var oids = s_fulcioExtensions.TryGetValue(name, out var known)
                ? known
                : throw new CliException(ExitCodes.Usage, $"unknown Fulcio extension '{name}' in oidMatchers.fulcioExtensions");
            _extensions.AddRange(oids.Select(oid => (oid, extensionValues.Values.ToHashSet(StringComparer.Ordinal), "fulcioExtension:" + name)));
        }

        foreach (var extension in values.Oids.OidExtensions)
        {
            var oid = string.Join('.', extension.ObjectIdentifier);
            _extensions.Add((CheckOid(oid), extension.ExtensionValues.Values.ToHashSet(StringComparer.Ordinal), "oidExtension:" + oid));
        }

        foreach (var extension in values.Oids.CustomExtensions)
        {
            _extensions.Add((CheckOid(extension.ObjectIdentifier), extension.ExtensionValues.Values.ToHashSet(StringComparer.Ordinal), "customExtension:" + extension.ObjectIdentifier));
        }
    }

    /// <summary>Parsed certificates and keys kept by their encoded text: a signer's certificate recurs across entries.</summary>
    private const int MaxCachedMaterials = 8192;

    private readonly ConcurrentDictionary<string, IdentityMatch[]> _cache = new(StringComparer.Ordinal);

    /// <summary>Whether any rule reads certificates (SANs, the issuer, extensions) rather than only fingerprints.</summary>
    private bool NeedsCertificates => _identities.Count > 0 || _subjects.Count > 0 || _extensions.Count > 0;

    /// <summary>False when the watch list is empty: entries need no parsing at all, only their leaf hashes.</summary>
    public bool WatchesAnything => NeedsCertificates || _fingerprints.Count > 0;

    /// <summary>
    /// Every match in one canonical entry body (any kind: the verifier material is found wherever it sits). Safe to call
    /// from several threads. Cheap pre-checks come first: without rules nothing is parsed; a value that is neither a
    /// certificate nor a key is dropped from its first bytes; bare keys are skipped unless fingerprints are watched;
    /// a certificate or key seen before answers from the cache.
    /// </summary>
    public List<IdentityMatch> Match(ReadOnlySpan<byte> body)
    {
        var matches = new List<IdentityMatch>();
        if (!WatchesAnything)
        {
            return matches;
        }

        if (SignerMaterial.FromCtLeaf(body) is { } ctLeaf)
        {
            MatchMaterial(ctLeaf, matches);
            return matches;
        }

        foreach (var encoded in SignerMaterial.EncodedValues(body))
        {
            if (_cache.TryGetValue(encoded, out var known))
            {
                matches.AddRange(known);
                continue;
            }

            if (SignerMaterial.Decode(encoded, wantKeys: _fingerprints.Count > 0) is not { } material)
            {
                continue;
            }

            var found = new List<IdentityMatch>();
            MatchMaterial(material, found);
            if (_cache.Count >= MaxCachedMaterials)
            {
                _cache.Clear();
            }

            _cache.TryAdd(encoded, [.. found]);
            matches.AddRange(found);
        }

        return matches;
    }

    private void MatchMaterial(SignerMaterial material, List<IdentityMatch> matches)
    {
        if (_fingerprints.Count > 0)
        {
            foreach (var fingerprint in material.Fingerprints())
            {
                if (_fingerprints.Contains(fingerprint))
                {
                    matches.Add(new IdentityMatch("fingerprint", fingerprint, null));
                }
            }
        }

        if (material.Certificate is not { } certificate || !NeedsCertificates)
        {
            return;
        }

        var sans = SubjectAlternativeNames(certificate);
        var issuer = ExtensionValue(certificate, FulcioIssuerV2) ?? ExtensionValue(certificate, FulcioIssuerV1);
        foreach (var (subject, issuers, rule) in _identities)
        {
            foreach (var san in sans.Where(s => subject.IsMatch(s)))
            {
                if (issuers.Count == 0 || (issuer is not null && issuers.Any(i => i.IsMatch(issuer))))
                {
                    matches.Add(new IdentityMatch(rule, san, issuer));
                }
            }
        }

        foreach (var (subject, rule) in _subjects)
        {
            matches.AddRange(sans.Where(s => subject.IsMatch(s)).Select(s => new IdentityMatch(rule, s, issuer)));
        }

        foreach (var (oid, values, rule) in _extensions)
        {
            if (ExtensionValue(certificate, oid) is { } value && values.Contains(value))
            {
                matches.Add(new IdentityMatch(rule, value, issuer));
            }
        }
    }

    private static List<string> SubjectAlternativeNames(CertificateFacts certificate)
    {
        var names = new List<string>();
        if (!certificate.Extensions.TryGetValue(Sigstore.Keys.Oids.SubjectAltName, out var extension))
        {
            return names;
        }

        try
        {
            var reader = new AsnReader(extension, AsnEncodingRules.DER).ReadSequence();
            while (reader.HasData)
            {
                var tag = reader.PeekTag();
                if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue is 1 or 2 or 6)
                {
                    // rfc822Name, dNSName, uniformResourceIdentifier: IA5String bodies under implicit tags.
                    names.Add(reader.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
                else if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 0)
                {
                    // otherName (Fulcio's username SAN): type-id, then [0] EXPLICIT UTF8String.
                    var other = reader.ReadSequence(tag);
                    other.ReadObjectIdentifier();
                    var value = other.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
                    names.Add(value.ReadCharacterString(UniversalTagNumber.UTF8String));
                }
                else
                {
                    reader.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed SAN extension names no one; the entry is skipped for SAN rules, not fatal to the monitor.
        }

        return names;
    }

    /// <summary>An extension's value: a DER UTF8String's text (Fulcio's newer encoding), else its raw bytes as UTF-8.</summary>
    private static string? ExtensionValue(CertificateFacts certificate, string oid)
    {
        if (!certificate.Extensions.TryGetValue(oid, out var extension))
        {
            return null;
        }

        if (AsnDecoder.TryReadEncodedValue(extension, AsnEncodingRules.DER, out var tag, out _, out _, out var consumed)
            && tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UTF8String)) && consumed == extension.Length)
        {
            try
            {
                return AsnDecoder.ReadCharacterString(extension, AsnEncodingRules.DER, UniversalTagNumber.UTF8String, out _);
            }
            catch (AsnContentException)
            {
            }
        }

        return Encoding.UTF8.GetString(extension);
    }

    private static Regex Compile(string pattern, string what)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, s_regexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{what}: '{pattern}' is not a regular expression: {ex.Message}");
        }
    }

    private static string CheckOid(string oid)
    {
        try
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.WriteObjectIdentifier(oid);
            return oid;
        }
        catch (ArgumentException)
        {
            throw new CliException(ExitCodes.Usage, $"'{oid}' is not an object identifier");
        }
    }
}

/// <summary>A signer's certificate or public key found in an entry body.</summary>
internal sealed class SignerMaterial
{
    private const int MaxDepth = 16;

    private static readonly byte[] s_pemBegin = "-----BEGIN "u8.ToArray();

    private SignerMaterial(CertificateFacts? certificate, byte[]? spki)
    {
        Certificate = certificate;
        Spki = spki;
    }

    public CertificateFacts? Certificate { get; }

    public byte[]? Spki { get; }

    /// <summary>Hex SHA-256 of the certificate's DER and of its (or the bare key's) SubjectPublicKeyInfo.</summary>
    public IEnumerable<string> Fingerprints()
    {
        if (Certificate is not null)
        {
            if (Certificate.Der is { } der)
            {
                yield return Convert.ToHexStringLower(SHA256.HashData(der));
            }

            yield return Convert.ToHexStringLower(SHA256.HashData(Certificate.Spki));
        }

        if (Spki is not null)
        {
            yield return Convert.ToHexStringLower(SHA256.HashData(Spki));
        }
    }

    /// <summary>
    /// The string values that may hold a certificate or key: Rekor v1 puts them base64-PEM in <c>content</c>/
    /// <c>verifier</c>/<c>publicKey</c> strings, Rekor v2 base64-DER in <c>rawBytes</c> (also as array items under those
    /// names). One forward pass of a reader, nothing else decoded; a body that is not JSON (a CT leaf) holds none.
    /// </summary>
    public static List<string> EncodedValues(ReadOnlySpan<byte> body)
    {
        var found = new List<string>();
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });

        // Per open container: whether it is an array whose items count as values of a watched name.
        Span<bool> arrayWatched = stackalloc bool[65];
        Span<bool> isArray = stackalloc bool[65];
        var depth = 0;
        var nameWatched = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        nameWatched = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("verifier"u8)
                            || reader.ValueTextEquals("publicKey"u8) || reader.ValueTextEquals("rawBytes"u8);
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var watched = depth > 0 && isArray[depth - 1] ? arrayWatched[depth - 1] : nameWatched;
                        isArray[depth] = reader.TokenType == JsonTokenType.StartArray;
                        arrayWatched[depth] = watched;
                        depth++;
                        nameWatched = false;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        nameWatched = false;
                        break;
                    case JsonTokenType.String when depth <= MaxDepth && (depth > 0 && isArray[depth - 1] ? arrayWatched[depth - 1] : nameWatched):
                        found.Add(reader.GetString() ?? "");
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a CT leaf, say): no Rekor signer material.
            found.Clear();
        }

        return found;
    }

    /// <summary>
    /// The certificate of an RFC 6962 §3.4 MerkleTreeLeaf (a CT log's entry): version v1 (0), leaf_type
    /// timestamped_entry (0), a 64-bit timestamp, then entry_type x509_entry (0: <c>ASN.1Cert&lt;1..2^24-1&gt;</c>) or
    /// precert_entry (1: a 32-byte issuer key hash, then the <c>TBSCertificate&lt;1..2^24-1&gt;</c>). Null for
    /// anything else (a JSON body never starts with a zero byte).
    /// </summary>
    public static SignerMaterial? FromCtLeaf(ReadOnlySpan<byte> leaf)
    {
        if (leaf.Length < 15 || leaf[0] != 0 || leaf[1] != 0 || leaf[10] != 0 || leaf[11] > 1)
        {
            return null;
        }

        var precertificate = leaf[11] == 1;
        var at = precertificate ? 12 + 32 : 12;
        if (leaf.Length < at + 3)
        {
            return null;
        }

        var length = (leaf[at] << 16) | (leaf[at + 1] << 8) | leaf[at + 2];
        if (length == 0 || leaf.Length < at + 3 + length)
        {
            return null;
        }

        var der = leaf.Slice(at + 3, length).ToArray();
        var facts = precertificate ? CertificateFacts.TryParseTbs(der) : CertificateFacts.TryParse(der);
        return facts is null ? null : new SignerMaterial(facts, null);
    }

    /// <summary>
    /// A certificate (PEM or DER) or, when <paramref name="wantKeys"/>, a public key (PEM or DER SubjectPublicKeyInfo)
    /// from a base64 value; null for anything else (a signature, a digest), decided from its first bytes without
    /// exceptions where the structure already rules it out.
    /// </summary>
    public static SignerMaterial? Decode(string base64, bool wantKeys)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return null;
        }

        if (bytes.Length == 0)
        {
            return null;
        }

        if (bytes.AsSpan().IndexOf(s_pemBegin) >= 0)
        {
            return FromPem(Encoding.UTF8.GetString(bytes), wantKeys);
        }

        if (bytes[0] != 0x30)
        {
            return null;
        }

        if (CertificateFacts.TryParse(bytes) is { } certificate)
        {
            return new SignerMaterial(certificate, null);
        }

        return wantKeys && IsSubjectPublicKeyInfo(bytes) ? new SignerMaterial(null, bytes) : null;
    }

    private static SignerMaterial? FromPem(string text, bool wantKeys)
    {
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            if (label.SequenceEqual("CERTIFICATE") || (wantKeys && label.SequenceEqual("PUBLIC KEY")))
            {
                byte[] der;
                try
                {
                    der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
                }
                catch (FormatException)
                {
                    return null;
                }

                return label.SequenceEqual("CERTIFICATE")
                    ? CertificateFacts.TryParse(der) is { } certificate ? new SignerMaterial(certificate, null) : null
                    : new SignerMaterial(null, der);
            }

            rest = rest[fields.Location.End..];
        }

        return null;
    }

    /// <summary>SEQUENCE { AlgorithmIdentifier SEQUENCE, BIT STRING } and nothing after it.</summary>
    private static bool IsSubjectPublicKeyInfo(byte[] der)
    {
        if (!AsnDecoder.TryReadEncodedValue(der, AsnEncodingRules.DER, out var tag, out var offset, out var length, out var consumed)
            || consumed != der.Length || !tag.HasSameClassAndValue(Asn1Tag.Sequence))
        {
            return false;
        }

        var inner = der.AsSpan(offset, length);
        if (!AsnDecoder.TryReadEncodedValue(inner, AsnEncodingRules.DER, out var algorithm, out _, out _, out var first)
            || !algorithm.HasSameClassAndValue(Asn1Tag.Sequence))
        {
            return false;
        }

        return AsnDecoder.TryReadEncodedValue(inner[first..], AsnEncodingRules.DER, out var key, out _, out _, out var second)
            && key.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.BitString)) && first + second == inner.Length;
    }
}

/// <summary>
/// What the watch list reads from a certificate: its DER, its SubjectPublicKeyInfo and its extensions' values by OID,
/// read straight from the DER (no platform certificate object: that costs far more than these few fields).
/// </summary>
internal sealed class CertificateFacts
{
    private CertificateFacts(byte[]? der, byte[] spki, Dictionary<string, byte[]> extensions)
    {
        Der = der;
        Spki = spki;
        Extensions = extensions;
    }

    /// <summary>The whole certificate; null for a CT precert entry, which logs only the TBSCertificate.</summary>
    public byte[]? Der { get; }

    public byte[] Spki { get; }

    /// <summary>Each extension's extnValue contents (the first one, when an OID repeats).</summary>
    public Dictionary<string, byte[]> Extensions { get; }

    /// <summary>
    /// The facts of an X.509 certificate: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }.
    /// Null when the outer structure is not a certificate's (checked without exceptions: most values tried are
    /// signatures or keys) or the DER is malformed.
    /// </summary>
    public static CertificateFacts? TryParse(byte[] der)
    {
        if (!AsnDecoder.TryReadEncodedValue(der, AsnEncodingRules.DER, out var outer, out var offset, out var length, out var consumed)
            || consumed != der.Length || !outer.HasSameClassAndValue(Asn1Tag.Sequence)
            || !AsnDecoder.TryReadEncodedValue(der.AsSpan(offset, length), AsnEncodingRules.DER, out var tbsTag, out _, out _, out _)
            || !tbsTag.HasSameClassAndValue(Asn1Tag.Sequence))
        {
            return null;
        }

        try
        {
            var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            var tbs = certificate.ReadSequence();
            certificate.ReadSequence();
            certificate.ReadBitString(out _);
            return certificate.HasData ? null : FromTbs(tbs, der);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The facts of a bare TBSCertificate (a CT precert entry): no certificate DER, so no certificate fingerprint.</summary>
    public static CertificateFacts? TryParseTbs(byte[] tbsDer)
    {
        if (!AsnDecoder.TryReadEncodedValue(tbsDer, AsnEncodingRules.DER, out var tag, out _, out _, out var consumed)
            || consumed != tbsDer.Length || !tag.HasSameClassAndValue(Asn1Tag.Sequence))
        {
            return null;
        }

        try
        {
            return FromTbs(new AsnReader(tbsDer, AsnEncodingRules.DER).ReadSequence(), null);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static CertificateFacts FromTbs(AsnReader tbs, byte[]? der)
    {
        var version = new Asn1Tag(TagClass.ContextSpecific, 0, true);
        if (tbs.PeekTag().HasSameClassAndValue(version))
        {
            tbs.ReadSequence(version);
        }

        tbs.ReadIntegerBytes();
        tbs.ReadSequence();
        tbs.ReadSequence();
        tbs.ReadSequence();
        tbs.ReadSequence();
        var spki = tbs.ReadEncodedValue().ToArray();
        var extensions = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (tbs.HasData)
        {
            var tag = tbs.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 3)
            {
                var list = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3, true)).ReadSequence();
                while (list.HasData)
                {
                    var extension = list.ReadSequence();
                    var oid = extension.ReadObjectIdentifier();
                    if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
                    {
                        extension.ReadBoolean();
                    }

                    extensions.TryAdd(oid, extension.ReadOctetString());
                }
            }
            else
            {
                // issuerUniqueID [1], subjectUniqueID [2]: not read by any rule.
                tbs.ReadEncodedValue();
            }
        }

        return new CertificateFacts(der, spki, extensions);
    }
}
