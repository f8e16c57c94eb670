using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace TransparencyLog.DevIssuer;

/// <summary>The issuer's ES256 (P-256) key: generated at start, or kept as PKCS#8 PEM under the state directory.</summary>
internal sealed class SigningKey : IDisposable
{
    private const string FileName = "dev-issuer-key.pem";

    private readonly ECDsa _key;

    public SigningKey(IOptions<DevIssuerOptions> options)
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var directory = options.Value.StateDirectory;
        if (!string.IsNullOrEmpty(directory))
        {
            var path = Path.Combine(directory, FileName);
            if (File.Exists(path))
            {
                _key.ImportFromPem(File.ReadAllText(path));
            }
            else
            {
                Directory.CreateDirectory(directory);
                File.WriteAllText(path, _key.ExportPkcs8PrivateKeyPem());
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }

        var parameters = _key.ExportParameters(includePrivateParameters: false);
        X = Base64Url.EncodeToString(parameters.Q.X);
        Y = Base64Url.EncodeToString(parameters.Q.Y);
        // RFC 7638 thumbprint: the required members in lexicographic order, no whitespace.
        var thumbprintInput = $$"""{"crv":"P-256","kty":"EC","x":"{{X}}","y":"{{Y}}"}""";
        KeyId = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(thumbprintInput)));
    }

    public const string Algorithm = "ES256";

    public string KeyId { get; }

    public string X { get; }

    public string Y { get; }

    /// <summary>The JWKS document holding this key.</summary>
    public object Jwks => new
    {
        keys = new[] { new { kty = "EC", crv = "P-256", x = X, y = Y, kid = KeyId, alg = Algorithm, use = "sig" } },
    };

    /// <summary>Signs <paramref name="payload"/> as a JWS compact token (ES256: IEEE P1363 r||s, as JWS requires).</summary>
    public string Sign(Dictionary<string, object?> payload)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new { alg = Algorithm, kid = KeyId, typ = "JWT" });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    public void Dispose() => _key.Dispose();
}
