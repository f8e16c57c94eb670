using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Real, correctly signed hashedrekord proposals (ECDSA P-256 over SHA-256 of a random artifact), made before the clock
/// starts so the load generator spends its CPU on HTTP, not on signing. By default every proposal has its own key, as
/// keyless signers each hold an ephemeral one: the log can keep nothing per key from one entry to the next. A pool of
/// long-lived keys (<c>--signer-keys N</c>, CI signers with a key file) is the other case to measure. The key travels as
/// a PEM public key by default; <c>--proposal-key certificate</c> sends what keyless signers send, a PEM certificate for
/// the fresh key issued by a Fulcio-like CA (<see cref="KeylessIssuer"/>).
/// </summary>
internal sealed class Proposals
{
    private readonly byte[][] _bodies;
    private int _next = -1;

    private Proposals(byte[][] bodies)
    {
        _bodies = bodies;
    }

    public int Count => _bodies.Length;

    /// <summary>How many proposals have been handed out.</summary>
    public int Used => Math.Min(Volatile.Read(ref _next) + 1, _bodies.Length);

    /// <param name="count">Proposals to make.</param>
    /// <param name="signerKeys">0: a fresh key per proposal; N: proposals rotate over N keys.</param>
    /// <param name="proposalKey">How the key travels in <c>publicKey.content</c>; a certificate needs a fresh key per proposal.</param>
    public static Proposals Sign(int count, int signerKeys = 0, ProposalKey proposalKey = ProposalKey.PublicKey)
    {
        if (proposalKey == ProposalKey.Certificate && signerKeys != 0)
        {
            throw new ArgumentException("certificate proposals each have their own key: --signer-keys must be 0", nameof(signerKeys));
        }

        var pool = new (ECDsa Key, string PublicKeyBase64)[signerKeys];
        for (var k = 0; k < pool.Length; k++)
        {
            pool[k] = NewKey();
        }

        using var issuer = proposalKey == ProposalKey.Certificate ? new KeylessIssuer() : null;
        var bodies = new byte[count][];
        Parallel.For(
            0,
            count,
            // Each worker signs certificates with its own handle on the CA key: the BCL does not promise that one key
            // object may sign on several threads at once.
            () => issuer?.ForOneThread(),
            (i, _, threadIssuer) =>
            {
                var (key, publicKey) = pool.Length > 0 ? pool[i % pool.Length] : threadIssuer?.IssueForNewKey() ?? NewKey();
                var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(64));
                var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
                bodies[i] = Encoding.UTF8.GetBytes(HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), publicKey));
                if (pool.Length == 0)
                {
                    key.Dispose();
                }

                return threadIssuer;
            },
            threadIssuer => threadIssuer?.Dispose());

        foreach (var (key, _) in pool)
        {
            key.Dispose();
        }

        return new Proposals(bodies);
    }

    private static (ECDsa Key, string PublicKeyBase64) NewKey()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, Base64Pem(key.ExportSubjectPublicKeyInfoPem()));
    }

    internal static string Base64Pem(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem + "\n"));

    /// <summary>The next unused proposal, or null when all have been handed out (each is submitted once).</summary>
    public byte[]? Take()
    {
        var i = Interlocked.Increment(ref _next);
        return i < _bodies.Length ? _bodies[i] : null;
    }

    internal static string HashedRekord(string digestHex, string signatureBase64, string publicKeyBase64) => new JsonObject
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = digestHex } },
            ["signature"] = new JsonObject
            {
                ["content"] = signatureBase64,
                ["publicKey"] = new JsonObject { ["content"] = publicKeyBase64 },
            },
        },
    }.ToJsonString();
}

/// <summary>What a proposal's <c>publicKey.content</c> holds (<c>--proposal-key</c>).</summary>
internal enum ProposalKey
{
    /// <summary>The key as a PEM SubjectPublicKeyInfo (the default, and all figures before 2026-12-07).</summary>
    PublicKey,

    /// <summary>The key in a PEM certificate issued by <see cref="KeylessIssuer"/>, as keyless signers send it.</summary>
    Certificate,
}

/// <summary>
/// A bench CA made at start-up that issues what Fulcio issues a keyless signer, in the shape that matters to the log:
/// a leaf for the signer's fresh P-256 key with an empty subject, a critical email SAN, the code-signing EKU, the OIDC
/// issuer extension and ten minutes' validity, signed by a P-256 CA. No SCT is embedded: the log reads no chain, and the
/// certificate is shorter than Fulcio's by that extension.
/// </summary>
internal sealed class KeylessIssuer : IDisposable
{
    private const string Email = "signer@bench.example";
    private const string OidcIssuer = "https://oauth2.bench.example/auth";

    // Fulcio's OIDC issuer extension (V2: a DER UTF8String), 1.3.6.1.4.1.57264.1.8.
    private const string OidcIssuerV2 = "1.3.6.1.4.1.57264.1.8";

    private readonly byte[] _caPkcs8;
    private readonly X500DistinguishedName _caName;
    private readonly X509AuthorityKeyIdentifierExtension _authorityKeyId;
    private readonly ECDsa? _threadKey;

    public KeylessIssuer()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _caName = new X500DistinguishedName("CN=bench-keyless-ca, O=bench");
        var request = new CertificateRequest(_caName, caKey, HashAlgorithmName.SHA256);
        var subjectKeyId = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        _authorityKeyId = X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyId);
        _caPkcs8 = caKey.ExportPkcs8PrivateKey();
    }

    private KeylessIssuer(KeylessIssuer shared)
    {
        _caPkcs8 = shared._caPkcs8;
        _caName = shared._caName;
        _authorityKeyId = shared._authorityKeyId;
        _threadKey = ECDsa.Create();
        _threadKey.ImportPkcs8PrivateKey(_caPkcs8, out _);
    }

    /// <summary>An issuer with its own handle on the CA key, for one thread.</summary>
    public KeylessIssuer ForOneThread() => new(this);

    /// <summary>A fresh P-256 key and the base64 of its PEM certificate; the caller disposes the key.</summary>
    public (ECDsa Key, string CertificateBase64) IssueForNewKey()
    {
        var signer = _threadKey ?? throw new InvalidOperationException("issue through ForOneThread()");
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(_authorityKeyId);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(Email);
        request.CertificateExtensions.Add(san.Build(critical: true));
        var issuer = new AsnWriter(AsnEncodingRules.DER);
        issuer.WriteCharacterString(UniversalTagNumber.UTF8String, OidcIssuer);
        request.CertificateExtensions.Add(new X509Extension(OidcIssuerV2, issuer.Encode(), false));

        var serial = RandomNumberGenerator.GetBytes(20);
        serial[0] = (byte)((serial[0] & 0x7f) | 0x01); // positive, and 20 bytes as Fulcio's
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(_caName, X509SignatureGenerator.CreateForECDsa(signer), now, now.AddMinutes(10), serial);
        return (key, Proposals.Base64Pem(certificate.ExportCertificatePem()));
    }

    public void Dispose() => _threadKey?.Dispose();
}
