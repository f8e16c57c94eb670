using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;

namespace TransparencyLog.Cli.Signing;

/// <summary>
/// The key a signature is made with and what verifiers will see of it: a Fulcio leaf certificate (keyless) or a
/// public key (key-based). The ephemeral key lives only in memory and is disposed with this object.
/// </summary>
internal sealed class SigningIdentity : IDisposable
{
    private SigningIdentity(ECDsa key, string publicMaterialPem, byte[]? certificate, string? identity, IReadOnlyList<byte[]>? chain = null)
    {
        Chain = chain ?? [];
        Key = key;
        PublicMaterialPem = publicMaterialPem;
        Certificate = certificate;
        Identity = identity;
    }

    public ECDsa Key { get; }

    /// <summary>The leaf PEM exactly as the CA sent it, or the SPKI PEM: what Rekor logs (base64-encoded).</summary>
    public string PublicMaterialPem { get; }

    public byte[]? Certificate { get; }

    /// <summary>The certificates above the leaf (intermediates, then the root) as the CA sent them; empty for key-based signing.</summary>
    public IReadOnlyList<byte[]> Chain { get; }

    /// <summary>The identity the certificate was requested for (token email or sub); null for key-based signing.</summary>
    public string? Identity { get; }

    /// <summary>Bundle <c>publicKey.hint</c> for key-based bundles: base64 SHA-256 of the SPKI.</summary>
    public string KeyHint => Convert.ToBase64String(SHA256.HashData(Key.ExportSubjectPublicKeyInfo()));

    /// <summary>
    /// The Rekor v2 <c>verifier</c>: the DER leaf (keyless) or DER SPKI, with its <c>keyDetails</c>. Every signature
    /// here is ECDSA with SHA-256, which v2 names only for P-256 keys.
    /// </summary>
    public JsonObject RekorV2Verifier()
    {
        if (Key.KeySize != 256)
        {
            throw new CliException(ExitCodes.Usage, $"Rekor v2 needs a P-256 key for ECDSA with SHA-256; this key is P-{Key.KeySize}");
        }

        return new JsonObject
        {
            [Certificate is null ? "publicKey" : "x509Certificate"] = new JsonObject
            {
                ["rawBytes"] = Convert.ToBase64String(Certificate ?? Key.ExportSubjectPublicKeyInfo()),
            },
            ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
        };
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => Key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>An ECDSA private key from PEM (PKCS#8, SEC1, or encrypted PKCS#8 with <paramref name="password"/>).</summary>
    public static SigningIdentity FromKeyFile(string path, string? password)
    {
        var pem = CommandActions.ReadInputFile(path, "key file");
        var key = ECDsa.Create();
        try
        {
            if (pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
            {
                if (password is null)
                {
                    throw new CliException(ExitCodes.Usage, "the key file is encrypted: set TLOG_KEY_PASSWORD");
                }

                key.ImportFromEncryptedPem(pem, password);
            }
            else
            {
                key.ImportFromPem(pem);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CliException(ExitCodes.Error, $"'{path}' does not hold a usable ECDSA private key (PKCS#8 or SEC1 PEM): {ex.Message}");
        }

        var spkiPem = PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()) + "\n";
        return new SigningIdentity(key, spkiPem, null, null);
    }

    /// <summary>
    /// Keyless: a fresh P-256 key, a proof of possession over the token's <c>email</c> (else <c>sub</c>), and a
    /// certificate from the CA.
    /// </summary>
    public static async Task<SigningIdentity> KeylessAsync(FulcioClient fulcio, string token, CancellationToken cancellationToken)
    {
        var identity = TokenSubject(token);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var publicKeyPem = PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()) + "\n";
            var proof = key.SignData(Encoding.UTF8.GetBytes(identity), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            var (leafPem, chain) = await fulcio.CreateSigningCertificateAsync(token, publicKeyPem, proof, cancellationToken);
            return new SigningIdentity(key, leafPem, chain[0], identity, [.. chain.Skip(1)]);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The claim the CA expects the proof of possession over (interop §0.8): <c>email</c> if present, else <c>sub</c>.</summary>
    public static string TokenSubject(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            throw new CliException(ExitCodes.Usage, "the identity token is not a JWT");
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
            var claims = document.RootElement;
            foreach (var name in new[] { "email", "sub" })
            {
                if (claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                {
                    return text;
                }
            }
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new CliException(ExitCodes.Usage, "the identity token's payload is not base64url JSON");
        }

        throw new CliException(ExitCodes.Usage, "the identity token has neither an email nor a sub claim");
    }

    public void Dispose() => Key.Dispose();
}
