using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Cli.Signing;

/// <summary>
/// The key a signature is made with and what verifiers will see of it: a Fulcio leaf certificate (keyless) or a
/// public key (key-based). The ephemeral key lives only in memory and is disposed with this object.
/// </summary>
internal sealed class SigningIdentity : IDisposable
{
    // One key signs many images at once in a multi-image run; the key objects are not documented as thread-safe, and a
    // signature takes well under a millisecond, so signing is serialized rather than the key copied.
    private readonly Lock _signing = new();

    private SigningIdentity(ArtifactSigningKey key, string publicMaterialPem, byte[]? certificate, string? identity, IReadOnlyList<byte[]>? chain = null)
    {
        Chain = chain ?? [];
        Key = key;
        PublicMaterialPem = publicMaterialPem;
        Certificate = certificate;
        Identity = identity;
    }

    public ArtifactSigningKey Key { get; }

    /// <summary>The leaf PEM exactly as the CA sent it, or the SPKI PEM: what Rekor logs (base64-encoded).</summary>
    public string PublicMaterialPem { get; }

    public byte[]? Certificate { get; }

    /// <summary>The certificates above the leaf (intermediates, then the root) as the CA sent them; empty for key-based signing.</summary>
    public IReadOnlyList<byte[]> Chain { get; }

    /// <summary>The identity the certificate was requested for (token email or sub); null for key-based signing.</summary>
    public string? Identity { get; }

    /// <summary>Bundle <c>publicKey.hint</c> for key-based bundles: base64 SHA-256 of the SPKI.</summary>
    public string KeyHint => Convert.ToBase64String(SHA256.HashData(Key.PublicKeySpki));

    /// <summary>The hashedrekord / bundle digest algorithm for this key (Rekor v1 name, bundle name).</summary>
    public (string RekorName, string BundleName) DigestNames =>
        Key.Hash == HashAlgorithmName.SHA512 ? ("sha512", "SHA2_512")
        : Key.Hash == HashAlgorithmName.SHA384 ? ("sha384", "SHA2_384")
        : ("sha256", "SHA2_256");

    /// <summary>
    /// The Rekor v2 <c>verifier</c>: the DER leaf (keyless) or DER SPKI, with the <c>keyDetails</c> naming the key
    /// and the hash it signs with.
    /// </summary>
    public JsonObject RekorV2Verifier()
    {
        var details = Key.RekorV2KeyDetails
            ?? throw new CliException(ExitCodes.Usage, $"Rekor v2 has no algorithm for a {Key.Algorithm} key (RSA must be 2048, 3072 or 4096 bits)");
        return new JsonObject
        {
            [Certificate is null ? "publicKey" : "x509Certificate"] = new JsonObject
            {
                ["rawBytes"] = Convert.ToBase64String(Certificate ?? Key.PublicKeySpki),
            },
            ["keyDetails"] = details,
        };
    }

    /// <summary>The artifact's digest and the signature over it (Ed25519 keys: Ed25519ph, as hashedrekord requires).</summary>
    public (byte[] Digest, byte[] Signature) SignArtifact(ReadOnlySpan<byte> data)
    {
        lock (_signing)
        {
            return Key.SignArtifact(data);
        }
    }

    /// <summary>A signature over a message such as a DSSE PAE (Ed25519 keys: pure Ed25519).</summary>
    public byte[] SignMessage(ReadOnlySpan<byte> data)
    {
        lock (_signing)
        {
            return Key.SignMessage(data);
        }
    }

    /// <summary>A DSSE envelope over an in-toto statement, signed over its PAE.</summary>
    public DsseEnvelope SignEnvelope(byte[] statement)
    {
        var unsigned = new DsseEnvelope(statement, CosignFormats.InTotoPayloadType, []);
        return unsigned with { Signatures = [new DsseSignature(SignMessage(unsigned.Pae()), string.Empty)] };
    }

    /// <summary>The Rekor v1 <c>dsse</c> 0.0.1 proposed entry for an envelope this identity signed.</summary>
    public JsonObject DsseEntry(DsseEnvelope envelope) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "dsse",
        ["spec"] = new JsonObject
        {
            ["proposedContent"] = new JsonObject
            {
                ["envelope"] = envelope.ToRekorJson(),
                ["verifiers"] = new JsonArray(Convert.ToBase64String(Encoding.UTF8.GetBytes(PublicMaterialPem))),
            },
        },
    };

    /// <summary>What a bundle carries for a verifier: the leaf certificate (keyless) or the key hint, the log entries, the timestamps.</summary>
    public VerificationMaterial Material(IReadOnlyList<TransparencyLogEntry> entries, IReadOnlyList<byte[]> timestamps) =>
        new(Certificate, null, Certificate is null ? KeyHint : null, entries, timestamps);

    /// <summary>
    /// A private key from a file: cosign's encrypted format, PKCS#8 (plain or encrypted), SEC1 or PKCS#1 PEM. The
    /// password is asked for only when the key is encrypted.
    /// </summary>
    public static SigningIdentity FromKeyFile(string path, Func<string> password)
    {
        var pem = CommandActions.ReadInputFile(path, "key file");
        var key = ArtifactSigningKey.Load(pem, password);
        return new SigningIdentity(key, key.PublicKeyPem, null, null);
    }

    /// <summary>
    /// Keyless: a fresh P-256 key, a proof of possession over the token's <c>email</c> (else <c>sub</c>), and a
    /// certificate from the CA.
    /// </summary>
    public static async Task<SigningIdentity> KeylessAsync(FulcioClient fulcio, string token, CancellationToken cancellationToken)
    {
        var identity = TokenSubject(token);
        var key = ArtifactSigningKey.Generate();
        try
        {
            var proof = key.SignMessage(Encoding.UTF8.GetBytes(identity));
            var (leafPem, chain) = await fulcio.CreateSigningCertificateAsync(token, key.PublicKeyPem, proof, cancellationToken);
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
