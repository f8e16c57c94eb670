// THROWAWAY STAND-IN, deleted when the ca-issuance branch merges. It implements exactly the contract agreed with
// the issuance side (SubmittedKey, CertificateIssuer, IssuedCertificate, AddIssuance) so that the identity and API
// side compiles and can be tested end to end. It is deliberately minimal: an in-memory P-256 root and intermediate,
// a leaf with the one SAN and the issuer extension, no SCT, no key policy beyond "EC or RSA".
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Identity;

namespace TransparencyLog.CaService.Issuance;

internal sealed class SubmittedKey
{
    private readonly AsymmetricAlgorithm _key;

    private SubmittedKey(byte[] spkiDer, AsymmetricAlgorithm key)
    {
        SpkiDer = spkiDer;
        _key = key;
    }

    public byte[] SpkiDer { get; }

    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(SpkiDer));

    public static SubmittedKey FromPublicKey(string content)
    {
        byte[] der;
        try
        {
            der = content.Contains("-----BEGIN", StringComparison.Ordinal)
                ? PemEncoding.Find(content) is var pem ? Convert.FromBase64String(content[pem.Base64Data]) : []
                : Convert.FromBase64String(content);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new CaException(CaErrorCode.InvalidPublicKey, "The public key could not be parsed");
        }

        return FromSpki(der);
    }

    public static SubmittedKey FromCsr(byte[] csrPemOrDer)
    {
        try
        {
            var text = System.Text.Encoding.ASCII.GetString(csrPemOrDer);
            var request = text.Contains("-----BEGIN", StringComparison.Ordinal)
                ? CertificateRequest.LoadSigningRequestPem(text, HashAlgorithmName.SHA256)
                : CertificateRequest.LoadSigningRequest(csrPemOrDer, HashAlgorithmName.SHA256);
            return FromSpki(request.PublicKey.ExportSubjectPublicKeyInfo());
        }
        catch (CryptographicException)
        {
            throw new CaException(CaErrorCode.InvalidCsr, "The certificate signing request could not be parsed");
        }
    }

    public bool VerifyProofOfPossession(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) => _key switch
    {
        ECDsa ec => ec.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
        RSA rsa => rsa.VerifyData(message, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => false,
    };

    private static SubmittedKey FromSpki(byte[] der)
    {
        try
        {
            var ec = ECDsa.Create();
            ec.ImportSubjectPublicKeyInfo(der, out _);
            return new SubmittedKey(der, ec);
        }
        catch (CryptographicException)
        {
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(der, out _);
            return new SubmittedKey(der, rsa);
        }
        catch (CryptographicException)
        {
            throw new CaException(CaErrorCode.InvalidPublicKey, "The public key could not be parsed");
        }
    }
}

internal sealed record IssuedCertificate(IReadOnlyList<string> ChainPem, byte[]? DetachedSct, long? SctLogIndex, string SerialHex);

internal sealed class CertificateIssuer : IDisposable
{
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;
    private readonly TimeProvider _time;

    public CertificateIssuer(TimeProvider time)
    {
        _time = time;
        var now = time.GetUtcNow();
        var rootRequest = new CertificateRequest("O=stand-in, CN=stand-in root", _rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        var intermediateRequest = new CertificateRequest("O=stand-in, CN=stand-in intermediate", _intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        _intermediate = intermediateRequest.Create(_root, now.AddDays(-1), now.AddYears(1), [1, 2, 3]);
        TrustBundle = [[_intermediate.ExportCertificatePem() + "\n", _root.ExportCertificatePem() + "\n"]];
    }

    public IReadOnlyList<IReadOnlyList<string>> TrustBundle { get; }

    public Task<IssuedCertificate> IssueAsync(Principal principal, SubmittedKey key, CancellationToken ct)
    {
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(key.SpkiDer, out _);
        var request = new CertificateRequest(new X500DistinguishedName([0x30, 0x00]), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("2.5.29.17", EncodeSan(principal.San), critical: true));
        var issuerWriter = new AsnWriter(AsnEncodingRules.DER);
        issuerWriter.WriteCharacterString(UniversalTagNumber.UTF8String, principal.Issuer);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", issuerWriter.Encode(), critical: false));
        var serial = RandomNumberGenerator.GetBytes(20);
        serial[0] &= 0x7f;
        var now = _time.GetUtcNow();
        var notBefore = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        using var leaf = request.Create(
            _intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(_intermediateKey), notBefore, notBefore.AddMinutes(10), serial);
        IReadOnlyList<string> chain = [leaf.ExportCertificatePem() + "\n", .. TrustBundle[0]];
        return Task.FromResult(new IssuedCertificate(chain, null, null, Convert.ToHexStringLower(serial)));
    }

    public void Dispose()
    {
        _root.Dispose();
        _intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
    }

    private static byte[] EncodeSan(SubjectAlternativeName san)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            switch (san.Kind)
            {
                case SanKind.Email:
                    writer.WriteCharacterString(UniversalTagNumber.IA5String, san.Value, new Asn1Tag(TagClass.ContextSpecific, 1));
                    break;
                case SanKind.Uri:
                    writer.WriteCharacterString(UniversalTagNumber.IA5String, san.Value, new Asn1Tag(TagClass.ContextSpecific, 6));
                    break;
                default:
                    using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                    {
                        writer.WriteObjectIdentifier("1.3.6.1.4.1.57264.1.7");
                        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                        {
                            writer.WriteCharacterString(UniversalTagNumber.UTF8String, san.Value);
                        }
                    }

                    break;
            }
        }

        return writer.Encode();
    }
}

internal static class IssuanceStandInExtensions
{
    public static IHostApplicationBuilder AddIssuance(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CertificateIssuer>();
        return builder;
    }
}
