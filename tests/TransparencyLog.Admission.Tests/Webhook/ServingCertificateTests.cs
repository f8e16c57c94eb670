using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using TransparencyLog.Admission.Webhook;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// The serving certificate is loaded once and shared by every handshake, and a rotated Secret (new files) takes effect
/// without a restart; files that do not load leave the previous certificate in force.
/// </summary>
public sealed class ServingCertificateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-serving-").FullName;
    private readonly DateTime _written = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private int _writes;

    private string CertificatePath => Path.Combine(_directory, "tls.crt");

    private string KeyPath => Path.Combine(_directory, "tls.key");

    [Fact]
    public void Current_FilesUnchanged_OneContextForEveryHandshake()
    {
        var (certificate, key) = Leaf("first");
        Write(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        var serving = new ServingCertificate(CertificatePath, KeyPath, NullLogger<ServingCertificate>.Instance);

        var first = serving.Current();
        var second = serving.Current();

        Assert.Same(first, second);
        Assert.Equal(certificate.Thumbprint, first.TargetCertificate.Thumbprint);
        Assert.True(first.TargetCertificate.HasPrivateKey);
    }

    [Fact]
    public void Current_FilesRotated_NewCertificateServed()
    {
        var (old, oldKey) = Leaf("old");
        var (rotated, rotatedKey) = Leaf("rotated");
        Write(old.ExportCertificatePem(), oldKey.ExportPkcs8PrivateKeyPem());
        var serving = new ServingCertificate(CertificatePath, KeyPath, NullLogger<ServingCertificate>.Instance);
        var before = serving.Current();

        Write(rotated.ExportCertificatePem(), rotatedKey.ExportPkcs8PrivateKeyPem());
        var after = serving.Current();

        Assert.Equal(old.Thumbprint, before.TargetCertificate.Thumbprint);
        Assert.Equal(rotated.Thumbprint, after.TargetCertificate.Thumbprint);
    }

    [Fact]
    public void Current_RotatedToAMismatchedKeyThenFixed_PreviousKeptUntilFixed()
    {
        var (old, oldKey) = Leaf("old");
        var (rotated, rotatedKey) = Leaf("rotated");
        Write(old.ExportCertificatePem(), oldKey.ExportPkcs8PrivateKeyPem());
        var serving = new ServingCertificate(CertificatePath, KeyPath, NullLogger<ServingCertificate>.Instance);
        serving.Current();

        Write(rotated.ExportCertificatePem(), oldKey.ExportPkcs8PrivateKeyPem());
        var mismatched = serving.Current();
        Write(rotated.ExportCertificatePem(), rotatedKey.ExportPkcs8PrivateKeyPem());
        var fixedPair = serving.Current();

        Assert.Equal(old.Thumbprint, mismatched.TargetCertificate.Thumbprint);
        Assert.Equal(rotated.Thumbprint, fixedPair.TargetCertificate.Thumbprint);
    }

    [Fact]
    public void Current_NothingLoadable_Throws()
    {
        Write("not a certificate", "not a key");
        var serving = new ServingCertificate(CertificatePath, KeyPath, NullLogger<ServingCertificate>.Instance);

        Assert.ThrowsAny<CryptographicException>(serving.Current);
    }

    [Fact]
    public void Current_ChainFile_IntermediateSentWithTheLeaf()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = Ca("root", rootKey, issuer: null);
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var intermediate = Ca("intermediate", intermediateKey, root);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=leaf", leafKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var leaf = request.Create(intermediate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3]);
        Write(leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem(), leafKey.ExportPkcs8PrivateKeyPem());

        var context = new ServingCertificate(CertificatePath, KeyPath, NullLogger<ServingCertificate>.Instance).Current();

        Assert.Equal(leaf.Thumbprint, context.TargetCertificate.Thumbprint);
        Assert.Equal([intermediate.Thumbprint], context.IntermediateCertificates.Select(static c => c.Thumbprint));
    }

    private static X509Certificate2 Ca(string name, ECDsa key, X509Certificate2? issuer)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-10);
        if (issuer is null)
        {
            return request.CreateSelfSigned(notBefore, notBefore.AddDays(10));
        }

        using var signed = request.Create(issuer, notBefore, notBefore.AddDays(5), [4, 5, 6]);
        return signed.CopyWithPrivateKey(key);
    }

    private static (X509Certificate2 Certificate, ECDsa Key) Leaf(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)), key);
    }

    /// <summary>Writes both files with a new write time each call (as a Secret update does), so the change is seen at any timestamp granularity.</summary>
    private void Write(string certificate, string key)
    {
        File.WriteAllText(CertificatePath, certificate);
        File.WriteAllText(KeyPath, key);
        _writes++;
        File.SetLastWriteTimeUtc(CertificatePath, _written.AddMinutes(_writes));
        File.SetLastWriteTimeUtc(KeyPath, _written.AddMinutes(_writes));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
