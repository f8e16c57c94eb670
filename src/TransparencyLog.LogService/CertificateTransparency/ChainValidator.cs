using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.CertificateTransparency;

using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>The two RFC 6962 entry types (§3.1 <c>LogEntryType</c>).</summary>
internal enum CtEntryType
{
    X509 = 0,
    Precertificate = 1,
}

/// <summary>A submission refused with 400; the message names the problem and never internals.</summary>
internal sealed class ChainRejectedException(string message) : Exception(message);

/// <summary>
/// A chain that verified: the submitted (pre)certificate and its issuers up to and including an accepted root (the
/// root is appended when the client left it out, so the stored chain always ends at the root, RFC 6962 §4.6).
/// </summary>
/// <param name="IssuerKeyHash">SHA-256 of the issuer's SubjectPublicKeyInfo: the precert entry's <c>issuer_key_hash</c>.</param>
internal sealed record ValidatedChain(CtEntryType Type, byte[] Certificate, IReadOnlyList<byte[]> Issuers, byte[] IssuerKeyHash);

/// <summary>
/// RFC 6962 §4.1 chain checks: every certificate parses, each is signed by the next one (signature and issuer/subject
/// name chaining), every issuer is a CA, and the chain ends at, or is issued by, an accepted root. Validity periods are
/// not checked: a log records what a CA issued, including certificates that have since expired (as CT logs do).
/// Precertificates must be issued directly by the CA that signs the final certificate: precertificate signing
/// certificates (EKU 1.3.6.1.4.1.11129.2.4.4) are refused rather than half-supported.
/// </summary>
internal static class ChainValidator
{
    private const string PrecertificateSigningEku = "1.3.6.1.4.1.11129.2.4.4";

    // Issuing CAs repeat in every submission, and loading a certificate and importing its key cost more than the
    // signature check itself; parsed issuers are kept, keyed by the SHA-256 of their DER (bounded, refilled on demand).
    private const int MaxCachedIssuers = 256;
    private static readonly ConcurrentDictionary<string, IssuerCertificate> CachedIssuers = new();

    public static ValidatedChain Validate(
        IReadOnlyList<byte[]> chain, CtEntryType type, IReadOnlyList<X509Certificate2> roots)
    {
        try
        {
            return ValidateLoaded(chain, type, roots);
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException or AsnContentException)
        {
            // A certificate loads with its extensions and key still encoded; a malformed basicConstraints, EKU or key
            // throws only when read, deep in the checks (found by fuzzing: the log answered 500). The submitter's.
            throw new ChainRejectedException("the chain holds a certificate with a malformed extension or public key");
        }
    }

    private static ValidatedChain ValidateLoaded(
        IReadOnlyList<byte[]> chain, CtEntryType type, IReadOnlyList<X509Certificate2> roots)
    {
        if (roots.Count == 0)
        {
            throw new ChainRejectedException("no accepted roots configured");
        }

        var submitted = SubmittedCertificate.Parse(chain[0]);
        var issuersInChain = new List<IssuerCertificate>(chain.Count);
        for (var i = 1; i < chain.Count; i++)
        {
            issuersInChain.Add(Issuer(chain[i], i));
        }

        CheckPoison(submitted, type);
        if (issuersInChain.Count > 0)
        {
            CheckIssued(submitted.IssuerName.Span, chain[0], issuersInChain[0], "chain[0]", "chain[1]");
        }

        for (var i = 1; i < issuersInChain.Count; i++)
        {
            CheckIssuedBetweenIssuers(issuersInChain[i - 1], issuersInChain[i], $"chain[{i}]", $"chain[{i + 1}]");
        }

        var issuers = chain.Skip(1).ToList();
        var lastIssuerName = issuersInChain.Count == 0 ? submitted.IssuerName.ToArray() : issuersInChain[^1].Certificate.IssuerName.RawData;
        IssuerCertificate? appendedRoot = null;
        if (!roots.Any(r => r.RawDataMemory.Span.SequenceEqual(chain[^1])))
        {
            // The chain stops below a root: the root must have issued its last certificate.
            appendedRoot = roots
                .Where(r => r.SubjectName.RawData.AsSpan().SequenceEqual(lastIssuerName))
                .Select(r => Issuer(r.RawData, chain.Count))
                .FirstOrDefault(r => r.Verifies(chain[^1]));
            if (appendedRoot is null)
            {
                throw new ChainRejectedException("the chain does not end at or below an accepted root");
            }

            CheckIsCa(appendedRoot, "the accepted root");
            issuers.Add(appendedRoot.Certificate.RawData);
        }

        if (type == CtEntryType.Precertificate
            && issuersInChain.Count > 0
            && issuersInChain[0].SignsPrecertificates)
        {
            throw new ChainRejectedException("precertificate signing certificates are not supported: the precertificate's issuer must be the final certificate's issuer");
        }

        if (issuers.Count == 0 && type == CtEntryType.Precertificate)
        {
            // The submitted certificate is itself an accepted root: it has no issuer, and a precert entry needs one.
            throw new ChainRejectedException("a precertificate must be issued by a CA in the chain");
        }

        var issuerKeyHash = (issuersInChain.Count > 0 ? issuersInChain[0] : appendedRoot)?.SpkiHash ?? [];
        return new ValidatedChain(type, chain[0], issuers, issuerKeyHash);
    }

    private static IssuerCertificate Issuer(byte[] der, int position)
    {
        var key = Convert.ToHexString(SHA256.HashData(der));
        if (CachedIssuers.TryGetValue(key, out var cached))
        {
            return cached;
        }

        if (CachedIssuers.Count >= MaxCachedIssuers)
        {
            CachedIssuers.Clear();
        }

        return CachedIssuers.GetOrAdd(key, _ => new IssuerCertificate(Load(der, position)));
    }

    private static X509Certificate2 Load(byte[] der, int position)
    {
        try
        {
            var certificate = X509CertificateLoader.LoadCertificate(der);
            if (certificate.RawData.Length != der.Length)
            {
                certificate.Dispose();
                throw new ChainRejectedException($"chain[{position}] has trailing data after the certificate");
            }

            return certificate;
        }
        catch (CryptographicException)
        {
            throw new ChainRejectedException($"chain[{position}] is not a DER X.509 certificate");
        }
    }

    private static void CheckPoison(SubmittedCertificate submitted, CtEntryType type)
    {
        var poison = submitted.PoisonExtensions;
        if (type == CtEntryType.X509 && poison.Count > 0)
        {
            throw new ChainRejectedException("add-chain does not accept precertificates (chain[0] carries the CT poison extension); use add-pre-chain");
        }

        if (type == CtEntryType.Precertificate)
        {
            if (poison.Count != 1)
            {
                throw new ChainRejectedException("add-pre-chain needs a precertificate: chain[0] must carry exactly one CT poison extension");
            }

            if (!poison[0].Critical || !poison[0].Value.Span.SequenceEqual((ReadOnlySpan<byte>)[0x05, 0x00]))
            {
                throw new ChainRejectedException("the CT poison extension must be critical with an ASN.1 NULL value");
            }
        }
    }

    private static void CheckIssued(ReadOnlySpan<byte> subjectIssuerName, byte[] subjectDer, IssuerCertificate issuer, string subjectLabel, string issuerLabel)
    {
        if (!subjectIssuerName.SequenceEqual(issuer.Certificate.SubjectName.RawData))
        {
            throw new ChainRejectedException($"{subjectLabel}'s issuer name is not {issuerLabel}'s subject name");
        }

        CheckIsCa(issuer, issuerLabel);
        if (!issuer.Verifies(subjectDer))
        {
            throw new ChainRejectedException($"{subjectLabel} is not signed by {issuerLabel}");
        }
    }

    /// <summary>
    /// A link between two cached issuers (intermediate ← root): both are identified by the hash of their DER, so a
    /// signature that verified once verifies forever and is not checked again on every submission.
    /// </summary>
    private static void CheckIssuedBetweenIssuers(IssuerCertificate subject, IssuerCertificate issuer, string subjectLabel, string issuerLabel)
    {
        if (!subject.Certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.Certificate.SubjectName.RawData))
        {
            throw new ChainRejectedException($"{subjectLabel}'s issuer name is not {issuerLabel}'s subject name");
        }

        CheckIsCa(issuer, issuerLabel);
        if (ReferenceEquals(subject.VerifiedIssuer, issuer))
        {
            return;
        }

        if (!issuer.Verifies(subject.Certificate.RawData))
        {
            throw new ChainRejectedException($"{subjectLabel} is not signed by {issuerLabel}");
        }

        subject.VerifiedIssuer = issuer;
    }

    private static void CheckIsCa(IssuerCertificate issuer, string label)
    {
        if (!issuer.IsCa)
        {
            throw new ChainRejectedException($"{label} is not a CA certificate (basicConstraints cA)");
        }
    }

    /// <summary>A parsed issuing certificate with its public key imported once.</summary>
    private sealed class IssuerCertificate(X509Certificate2 certificate)
    {
        private readonly Lock _gate = new();
        private readonly ECDsa? _ecdsa = certificate.GetECDsaPublicKey();
        private readonly RSA? _rsa = certificate.GetRSAPublicKey();
        private IssuerCertificate? _verifiedIssuer;

        // What the extensions say, read on first use (0: not yet; 1: no; 2: yes). A malformed extension throws when
        // it is read, as it did before it was cached, and is read again next time: nothing is cached from it.
        private int _isCa;
        private int _signsPrecertificates;

        public X509Certificate2 Certificate { get; } = certificate;

        public byte[] SpkiHash { get; } = SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());

        /// <summary>basicConstraints cA, read once per cached issuer rather than per submission.</summary>
        public bool IsCa => Read(ref _isCa, static c => c.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true });

        /// <summary>Whether the certificate is a precertificate signing certificate (its EKU holds the CT one).</summary>
        public bool SignsPrecertificates => Read(ref _signsPrecertificates, static c => c.Extensions.OfType<X509EnhancedKeyUsageExtension>().Any(e => e.EnhancedKeyUsages[PrecertificateSigningEku] is not null));

        /// <summary>The cached issuer whose signature on this certificate has verified; null until one has.</summary>
        public IssuerCertificate? VerifiedIssuer
        {
            get => Volatile.Read(ref _verifiedIssuer);
            set => Volatile.Write(ref _verifiedIssuer, value);
        }

        private bool Read(ref int cached, Func<X509Certificate2, bool> read)
        {
            var known = Volatile.Read(ref cached);
            if (known != 0)
            {
                return known == 2;
            }

            var value = read(Certificate);
            Volatile.Write(ref cached, value ? 2 : 1);
            return value;
        }

        /// <summary>Whether a certificate's signature verifies with this key (ECDSA or RSA PKCS#1 v1.5, SHA-2).</summary>
        public bool Verifies(byte[] subjectDer)
        {
            ReadOnlyMemory<byte> tbs;
            string algorithm;
            byte[] signature;
            try
            {
                var reader = new AsnReader(subjectDer, AsnEncodingRules.DER).ReadSequence();
                tbs = reader.ReadEncodedValue();
                var algorithmIdentifier = reader.ReadSequence();
                algorithm = algorithmIdentifier.ReadObjectIdentifier();
                signature = reader.ReadBitString(out var unused);
                if (unused != 0)
                {
                    return false;
                }
            }
            catch (AsnContentException)
            {
                return false;
            }

            if (!SignatureAlgorithms.TryDescribe(algorithm, out var digest, out var ecdsa) || digest is not { } hash)
            {
                throw new ChainRejectedException($"signature algorithm {algorithm} is not supported (ECDSA or RSA PKCS#1 v1.5 with SHA-2 only)");
            }

            try
            {
                // One key object serves every request; verification is serialized on it rather than relying on the
                // platform's thread-safety promises for a shared key.
                lock (_gate)
                {
                    return ecdsa
                        ? _ecdsa is not null && _ecdsa.VerifyData(tbs.Span, signature, hash, DSASignatureFormat.Rfc3279DerSequence)
                        : _rsa is not null && _rsa.VerifyData(tbs.Span, signature, hash, RSASignaturePadding.Pkcs1);
                }
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
    }
}
