using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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

    /// <summary>Every match in one canonical entry body (any kind: the verifier material is found wherever it sits).</summary>
    public List<IdentityMatch> Match(byte[] body)
    {
        var matches = new List<IdentityMatch>();
        foreach (var material in SignerMaterial.FromBody(body))
        {
            MatchMaterial(material, matches);
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

        if (material.Certificate is not { } certificate)
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

    private static List<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        if (certificate.Extensions["2.5.29.17"] is not { } extension)
        {
            return names;
        }

        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
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
    private static string? ExtensionValue(X509Certificate2 certificate, string oid)
    {
        if (certificate.Extensions[oid] is not { } extension)
        {
            return null;
        }

        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var text = reader.ReadCharacterString(UniversalTagNumber.UTF8String);
            if (!reader.HasData)
            {
                return text;
            }
        }
        catch (AsnContentException)
        {
        }

        return Encoding.UTF8.GetString(extension.RawData);
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

    private SignerMaterial(X509Certificate2? certificate, byte[]? spki)
    {
        Certificate = certificate;
        Spki = spki;
    }

    public X509Certificate2? Certificate { get; }

    public byte[]? Spki { get; }

    /// <summary>Hex SHA-256 of the certificate's DER and of its (or the bare key's) SubjectPublicKeyInfo.</summary>
    public IEnumerable<string> Fingerprints()
    {
        if (Certificate is not null)
        {
            yield return Convert.ToHexStringLower(SHA256.HashData(Certificate.RawData));
            yield return Convert.ToHexStringLower(SHA256.HashData(Certificate.PublicKey.ExportSubjectPublicKeyInfo()));
        }

        if (Spki is not null)
        {
            yield return Convert.ToHexStringLower(SHA256.HashData(Spki));
        }
    }

    /// <summary>
    /// Every certificate or key in the body: Rekor v1 puts them base64-PEM in <c>content</c>/<c>verifier</c>/
    /// <c>publicKey</c> strings, Rekor v2 base64-DER in <c>rawBytes</c>; whichever decodes is taken.
    /// </summary>
    public static List<SignerMaterial> FromBody(byte[] body)
    {
        var found = new List<SignerMaterial>();
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            Walk(document.RootElement, null, 0, found);
        }
        catch (JsonException)
        {
            // Not JSON (a CT leaf, say): no Rekor signer material.
        }

        return found;
    }

    private static void Walk(JsonElement element, string? name, int depth, List<SignerMaterial> found)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, property.Name, depth + 1, found);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, name, depth + 1, found);
                }

                break;
            case JsonValueKind.String when name is "content" or "verifier" or "publicKey" or "rawBytes":
                if (TryDecode(element.GetString() ?? "") is { } material)
                {
                    found.Add(material);
                }

                break;
        }
    }

    private static SignerMaterial? TryDecode(string base64)
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

        try
        {
            var text = Encoding.UTF8.GetString(bytes);
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                return new SignerMaterial(X509Certificate2.CreateFromPem(text), null);
            }

            if (text.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
            {
                var pem = PemEncoding.Find(text);
                return new SignerMaterial(null, Convert.FromBase64String(text[pem.Base64Data]));
            }

            if (bytes.Length > 0 && bytes[0] == 0x30)
            {
                try
                {
                    return new SignerMaterial(X509CertificateLoader.LoadCertificate(bytes), null);
                }
                catch (CryptographicException)
                {
                    // Not a certificate: a DER SubjectPublicKeyInfo if it reads as one.
                    var reader = new AsnReader(bytes, AsnEncodingRules.DER);
                    reader.ReadSequence();
                    return reader.HasData ? null : new SignerMaterial(null, bytes);
                }
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or AsnContentException)
        {
        }

        return null;
    }
}
