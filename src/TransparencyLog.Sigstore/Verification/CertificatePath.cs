using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// RFC 5280 path validation for the short private chains a sigstore verifier meets (a Fulcio leaf under its
/// intermediate and root, a TSA certificate under its CA), done here instead of by <see cref="X509Chain"/>: on Linux
/// every chain build loads the whole system trust store although the policy trusts only our root, which cost a
/// quarter of a <c>tlog verify</c>. Nothing here reads a machine store or the network: the issuers are the trusted
/// chain's certificates, the anchor is its last, compared byte for byte.
/// </summary>
/// <remarks>
/// Checked, for every certificate of the path: validity at the given time, no critical extension outside
/// basicConstraints, keyUsage, extendedKeyUsage and subjectAltName, the issuer name equal to the next certificate's
/// subject, the signature by the next certificate's key (ECDSA P-256/P-384/P-521, RSA PKCS#1 v1.5 or PSS with
/// SHA-2, Ed25519), and the TBS signature algorithm equal to the outer one. Every certificate above the leaf must be
/// a CA (basicConstraints cA), allow keyCertSign when it has a keyUsage, and respect its pathLenConstraint. With a
/// required extended key usage the leaf must carry it and every CA that restricts its usages must allow it.
/// Not implemented, so refused wherever critical: name constraints, policy constraints and policies.
/// </remarks>
internal static class CertificatePath
{
    private const int MinimumRsaBits = 2048;

    /// <summary>
    /// The path from <paramref name="leaf"/> through <paramref name="trustedChain"/> (root last) to that root, valid
    /// at <paramref name="time"/>; element 0 is the leaf, the last the root. Null with <paramref name="error"/> set
    /// when no such path exists.
    /// </summary>
    public static IReadOnlyList<X509Certificate2>? Build(
        X509Certificate2 leaf, IReadOnlyList<X509Certificate2> trustedChain, DateTimeOffset time, string? requiredEku, out string error)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trustedChain.Count, 1);
        var root = trustedChain[^1];
        if (trustedChain.Any(c => SameCertificate(c, leaf)))
        {
            error = "the certificate is itself a trusted root, not an issued certificate";
            return null;
        }

        var path = new List<X509Certificate2> { leaf };
        string? firstError = null;
        if (Extend(path, trustedChain, root, time, requiredEku, ref firstError))
        {
            error = string.Empty;
            return path;
        }

        error = firstError ?? $"no path to the trusted root: no certificate of the trusted chain named {leaf.IssuerName.Name} signed it";
        return null;
    }

    /// <summary>
    /// Depth-first: each certificate of the trusted chain whose subject is the current certificate's issuer and whose
    /// key verifies its signature is tried as the next link (a chain may hold a renewed CA under the same name).
    /// </summary>
    private static bool Extend(
        List<X509Certificate2> path, IReadOnlyList<X509Certificate2> trustedChain, X509Certificate2 root, DateTimeOffset time, string? requiredEku, ref string? firstError)
    {
        var current = path[^1];
        if (SameCertificate(current, root))
        {
            var problem = CheckPath(path, time, requiredEku);
            firstError ??= problem;
            return problem is null;
        }

        // A path longer than the trusted chain repeats a certificate.
        if (path.Count > trustedChain.Count)
        {
            return false;
        }

        foreach (var candidate in trustedChain)
        {
            if (path.Any(c => SameCertificate(c, candidate))
                || !current.IssuerName.RawData.AsSpan().SequenceEqual(candidate.SubjectName.RawData))
            {
                continue;
            }

            if (!IsSignedBy(current, candidate, out var signatureProblem))
            {
                firstError ??= $"{Describe(current)} is not signed by the key of {Describe(candidate)}: {signatureProblem}";
                continue;
            }

            path.Add(candidate);
            if (Extend(path, trustedChain, root, time, requiredEku, ref firstError))
            {
                return true;
            }

            path.RemoveAt(path.Count - 1);
        }

        return false;
    }

    /// <summary>Everything but the signatures (checked while building): times, extensions, CA constraints, usages.</summary>
    private static string? CheckPath(List<X509Certificate2> path, DateTimeOffset time, string? requiredEku)
    {
        var instant = time.UtcDateTime;
        for (var i = 0; i < path.Count; i++)
        {
            var certificate = path[i];
            if (instant < certificate.NotBefore.ToUniversalTime() || instant > certificate.NotAfter.ToUniversalTime())
            {
                return $"{Describe(certificate)} is not valid at {time:O} (valid {certificate.NotBefore.ToUniversalTime():O} to {certificate.NotAfter.ToUniversalTime():O})";
            }

            if (certificate.Version != 3 && i > 0)
            {
                return $"{Describe(certificate)} is not a version 3 certificate, so it cannot be a CA";
            }

            if (CheckExtensions(certificate, isCa: i > 0, intermediatesBelow: i - 1, requiredEku, isLeaf: i == 0) is { } problem)
            {
                return $"{Describe(certificate)} {problem}";
            }
        }

        return null;
    }

    private static string? CheckExtensions(X509Certificate2 certificate, bool isCa, int intermediatesBelow, string? requiredEku, bool isLeaf)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        X509BasicConstraintsExtension? basicConstraints = null;
        X509KeyUsageExtension? keyUsage = null;
        X509EnhancedKeyUsageExtension? extendedKeyUsage = null;
        foreach (var extension in certificate.Extensions)
        {
            var oid = extension.Oid?.Value ?? string.Empty;
            if (!seen.Add(oid))
            {
                return $"repeats the extension {oid}";
            }

            switch (oid)
            {
                case Oids.BasicConstraints:
                    basicConstraints = new X509BasicConstraintsExtension(new AsnEncodedData(extension.Oid, extension.RawData), extension.Critical);
                    break;
                case Oids.KeyUsage:
                    keyUsage = new X509KeyUsageExtension(new AsnEncodedData(extension.Oid, extension.RawData), extension.Critical);
                    break;
                case Oids.ExtendedKeyUsage:
                    extendedKeyUsage = new X509EnhancedKeyUsageExtension(new AsnEncodedData(extension.Oid, extension.RawData), extension.Critical);
                    break;
                case Oids.SubjectAltName:
                    break;
                default:
                    if (extension.Critical)
                    {
                        return $"has a critical extension {oid} this verifier does not understand";
                    }

                    break;
            }
        }

        if (isCa)
        {
            if (basicConstraints is not { CertificateAuthority: true })
            {
                return "is not a CA (basicConstraints without cA) but issued a certificate of the path";
            }

            if (basicConstraints.HasPathLengthConstraint && intermediatesBelow > basicConstraints.PathLengthConstraint)
            {
                return $"allows {basicConstraints.PathLengthConstraint} intermediate CA(s) below it (pathLenConstraint), the path has {intermediatesBelow}";
            }

            if (keyUsage is not null && (keyUsage.KeyUsages & X509KeyUsageFlags.KeyCertSign) == 0)
            {
                return "has a keyUsage without keyCertSign";
            }
        }

        if (requiredEku is null)
        {
            return null;
        }

        if (isLeaf)
        {
            return extendedKeyUsage is not null && Contains(extendedKeyUsage, requiredEku)
                ? null
                : $"does not carry the extended key usage {requiredEku}";
        }

        return extendedKeyUsage is null || Contains(extendedKeyUsage, requiredEku) || Contains(extendedKeyUsage, Oids.AnyExtendedKeyUsage)
            ? null
            : $"restricts its extended key usages and does not allow {requiredEku}";
    }

    private static bool Contains(X509EnhancedKeyUsageExtension extension, string oid)
    {
        foreach (var usage in extension.EnhancedKeyUsages)
        {
            if (usage.Value == oid)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The certificate's signature by <paramref name="issuer"/>'s key, over its TBSCertificate as encoded.</summary>
    internal static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 issuer, out string problem)
    {
        ReadOnlyMemory<byte> tbs;
        ReadOnlyMemory<byte> algorithm;
        byte[] signature;
        try
        {
            var reader = new AsnReader(certificate.RawDataMemory, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            tbs = outer.ReadEncodedValue();
            algorithm = outer.ReadEncodedValue();
            signature = outer.ReadBitString(out var unused);
            outer.ThrowIfNotEmpty();
            if (unused != 0)
            {
                problem = "the signature is not a whole number of bytes";
                return false;
            }

            // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature AlgorithmIdentifier, ... }:
            // RFC 5280 §4.1.2.3 requires it to equal the outer algorithm, else the signed algorithm is not the used one.
            var tbsFields = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
            if (tbsFields.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbsFields.ReadEncodedValue();
            }

            tbsFields.ReadEncodedValue();
            if (!tbsFields.ReadEncodedValue().Span.SequenceEqual(algorithm.Span))
            {
                problem = "the signed signature algorithm differs from the outer one";
                return false;
            }
        }
        catch (AsnContentException)
        {
            problem = "the certificate is not valid DER";
            return false;
        }

        try
        {
            return Verify(algorithm, issuer.PublicKey.ExportSubjectPublicKeyInfo(), tbs.Span, signature, out problem);
        }
        // PlatformNotSupportedException: an issuer key on a named curve the platform does not know.
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or PlatformNotSupportedException)
        {
            problem = "the issuer's key or the signature is malformed";
            return false;
        }
    }

    private static bool Verify(ReadOnlyMemory<byte> algorithmIdentifier, byte[] spki, ReadOnlySpan<byte> tbs, byte[] signature, out string problem)
    {
        var algorithm = new AsnReader(algorithmIdentifier, AsnEncodingRules.DER).ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var keyType = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
        problem = "the signature does not verify";
        switch (oid)
        {
            case SignatureAlgorithms.EcdsaWithSha256 or SignatureAlgorithms.EcdsaWithSha384 or SignatureAlgorithms.EcdsaWithSha512:
                if (algorithm.HasData || keyType != Oids.EcPublicKey)
                {
                    problem = $"{oid} needs an EC issuer key and no parameters";
                    return false;
                }

                using (var ecdsa = ECDsa.Create())
                {
                    ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                    if (ecdsa.ExportParameters(false).Curve.Oid?.Value is not (Oids.P256 or Oids.P384 or Oids.P521))
                    {
                        problem = "the issuer's EC key is not on P-256, P-384 or P-521";
                        return false;
                    }

                    return ecdsa.VerifyData(tbs, signature, EcdsaHash(oid), DSASignatureFormat.Rfc3279DerSequence);
                }

            case SignatureAlgorithms.Sha256WithRsa or SignatureAlgorithms.Sha384WithRsa or SignatureAlgorithms.Sha512WithRsa:
                if (!NullOrAbsent(algorithm) || keyType != Oids.Rsa)
                {
                    problem = $"{oid} needs an RSA issuer key and NULL parameters";
                    return false;
                }

                return VerifyRsa(spki, tbs, signature, RsaHash(oid), RSASignaturePadding.Pkcs1, ref problem);

            case Oids.RsaPss:
                if (keyType != Oids.Rsa || ReadPssHash(algorithm) is not { } pssHash)
                {
                    problem = "RSASSA-PSS needs an RSA issuer key and SHA-256/384/512 with MGF1 of the same hash and a salt of its length";
                    return false;
                }

                return VerifyRsa(spki, tbs, signature, pssHash, RSASignaturePadding.Pss, ref problem);

            case SignatureAlgorithms.Ed25519:
                if (algorithm.HasData || keyType != Oids.Ed25519)
                {
                    problem = "Ed25519 needs an Ed25519 issuer key and no parameters";
                    return false;
                }

                return Ed25519Verification.VerifyPure(Asn1Keys.ReadEd25519PublicKey(spki), tbs, signature);

            default:
                problem = $"the signature algorithm {oid} is not supported";
                return false;
        }
    }

    private static bool VerifyRsa(byte[] spki, ReadOnlySpan<byte> tbs, byte[] signature, HashAlgorithmName hash, RSASignaturePadding padding, ref string problem)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(spki, out _);
        if (rsa.KeySize < MinimumRsaBits)
        {
            problem = $"the issuer's RSA key has {rsa.KeySize} bits, fewer than {MinimumRsaBits}";
            return false;
        }

        return rsa.VerifyData(tbs, signature, hash, padding);
    }

    private static HashAlgorithmName EcdsaHash(string oid) => oid switch
    {
        SignatureAlgorithms.EcdsaWithSha256 => HashAlgorithmName.SHA256,
        SignatureAlgorithms.EcdsaWithSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static HashAlgorithmName RsaHash(string oid) => oid switch
    {
        SignatureAlgorithms.Sha256WithRsa => HashAlgorithmName.SHA256,
        SignatureAlgorithms.Sha384WithRsa => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static bool NullOrAbsent(AsnReader algorithm)
    {
        if (!algorithm.HasData)
        {
            return true;
        }

        algorithm.ReadNull();
        return !algorithm.HasData;
    }

    /// <summary>
    /// RSASSA-PSS-params (RFC 4055 §3.1) in the one shape the BCL verifies: a SHA-2 hash, MGF1 with that hash, a salt
    /// as long as the hash and the default trailer. Null for anything else (including the SHA-1 defaults).
    /// </summary>
    private static HashAlgorithmName? ReadPssHash(AsnReader algorithm)
    {
        var parameters = algorithm.ReadSequence();
        if (algorithm.HasData || !parameters.HasData)
        {
            return null;
        }

        var hashReader = parameters.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        var hashOid = hashReader.ReadObjectIdentifier();
        var (hash, length) = hashOid switch
        {
            "2.16.840.1.101.3.4.2.1" => (HashAlgorithmName.SHA256, 32),
            "2.16.840.1.101.3.4.2.2" => (HashAlgorithmName.SHA384, 48),
            "2.16.840.1.101.3.4.2.3" => (HashAlgorithmName.SHA512, 64),
            _ => (default(HashAlgorithmName), 0),
        };
        if (length == 0 || !NullOrAbsent(hashReader) || !parameters.HasData)
        {
            return null;
        }

        var mgf = parameters.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 1)).ReadSequence();
        if (mgf.ReadObjectIdentifier() != Oids.Mgf1)
        {
            return null;
        }

        var mgfHash = mgf.ReadSequence();
        if (mgf.HasData || mgfHash.ReadObjectIdentifier() != hashOid || !NullOrAbsent(mgfHash))
        {
            return null;
        }

        var salt = 20;
        if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 2)))
        {
            if (!parameters.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 2)).TryReadInt32(out salt))
            {
                return null;
            }
        }

        if (parameters.HasData)
        {
            if (!parameters.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3)).TryReadInt32(out var trailer) || trailer != 1 || parameters.HasData)
            {
                return null;
            }
        }

        return salt == length ? hash : null;
    }

    private static bool SameCertificate(X509Certificate2 a, X509Certificate2 b) => a.RawDataMemory.Span.SequenceEqual(b.RawDataMemory.Span);

    private static string Describe(X509Certificate2 certificate) =>
        certificate.Subject.Length > 0 ? $"the certificate \"{certificate.Subject}\"" : $"the certificate with serial {certificate.SerialNumber}";
}
