using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tuf;

/// <summary>
/// A TUF public key: ECDSA P-256 (<c>keytype</c> <c>ecdsa</c> or <c>ecdsa-sha2-nistp256</c>, scheme
/// <c>ecdsa-sha2-nistp256</c>, PEM SPKI, the only form go-tuf reads) or Ed25519 (64 hex characters).
/// </summary>
public sealed record TufKey(string KeyType, string Scheme, string Public)
{
    public const string EcdsaScheme = "ecdsa-sha2-nistp256";
    public const string Ed25519 = "ed25519";

    /// <summary>Exactly <c>{keytype, keyval:{public}, scheme}</c>: what is stored and what the key ID hashes.</summary>
    public JsonObject ToJson() => new()
    {
        ["keytype"] = KeyType,
        ["keyval"] = new JsonObject { ["public"] = Public },
        ["scheme"] = Scheme,
    };

    /// <summary>Lowercase hex SHA-256 of the canonical key object.</summary>
    public string KeyId => Convert.ToHexStringLower(SHA256.HashData(TufCanonicalJson.Encode(ToJson())));

    public static TufKey FromPublicKey(LogPublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.KeyType == LogKeyType.Ed25519
            ? new TufKey(Ed25519, Ed25519, Convert.ToHexStringLower(key.Spki.AsSpan(key.Spki.Length - 32)))
            : new TufKey("ecdsa", EcdsaScheme, key.ToPem());
    }

    /// <exception cref="TufException">Not a key object of a supported type.</exception>
    public static TufKey FromJson(JsonNode? node)
    {
        if (node is not JsonObject obj
            || obj["keytype"] is not JsonValue keyType || !keyType.TryGetValue<string>(out var type)
            || obj["scheme"] is not JsonValue schemeValue || !schemeValue.TryGetValue<string>(out var scheme)
            || obj["keyval"] is not JsonObject keyval
            || keyval["public"] is not JsonValue publicValue || !publicValue.TryGetValue<string>(out var publicKey))
        {
            throw new TufException(TufError.BadFormat, "a key needs keytype, scheme and keyval.public strings");
        }

        return new TufKey(type, scheme, publicKey);
    }

    /// <summary>Whether the key's type is one this product verifies (others are ignored, never trusted).</summary>
    public bool IsSupported => TryPublicKey() is not null;

    /// <summary>
    /// SHA-256 of the key's SubjectPublicKeyInfo, or null for an unsupported key: one key listed under two key IDs (or
    /// two encodings: hex and PEM, <c>ecdsa</c> and <c>ecdsa-sha2-nistp256</c>) has one fingerprint, as go-tuf counts keys.
    /// </summary>
    public string? SpkiFingerprint => TryPublicKey() is { } key ? Convert.ToHexStringLower(SHA256.HashData(key.Spki)) : null;

    /// <summary>Verifies a hex signature over <paramref name="data"/>; false for any malformed input.</summary>
    public bool Verify(ReadOnlySpan<byte> data, string signatureHex)
    {
        ArgumentNullException.ThrowIfNull(signatureHex);
        if (TryPublicKey() is not { } key || signatureHex.Length is 0 or > 1024)
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromHexString(signatureHex);
        }
        catch (FormatException)
        {
            return false;
        }

        return key.Verify(data, signature);
    }

    private LogPublicKey? TryPublicKey()
    {
        try
        {
            if (KeyType == Ed25519 && Scheme == Ed25519 && Public.Length == 64)
            {
                return LogPublicKey.FromEd25519(Convert.FromHexString(Public));
            }

            if (KeyType is "ecdsa" or EcdsaScheme && Scheme == EcdsaScheme)
            {
                var key = Public.Contains("-----BEGIN", StringComparison.Ordinal)
                    ? LogPublicKey.FromPem(Public)
                    : LogPublicKey.FromSpki(Convert.FromHexString(Public));
                return key.KeyType == LogKeyType.EcdsaP256 ? key : null;
            }
        }
        catch (Exception ex) when (ex is KeyLoadException or FormatException or CryptographicException)
        {
        }

        return null;
    }
}
