using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// cosign's encrypted private key file (what <c>cosign generate-key-pair</c> and <c>skopeo generate-sigstore-key</c>
/// write): a PEM block whose body is JSON naming scrypt (N, r, p, salt) and NaCl secretbox (XSalsa20-Poly1305,
/// nonce), with the sealed PKCS#8 DER as <c>ciphertext</c>. The sealed box is the 16-byte Poly1305 tag followed by
/// the encrypted bytes, as Go's <c>nacl/secretbox</c> lays it out.
/// </summary>
public static class CosignKeyFile
{
    /// <summary>The PEM type cosign writes today.</summary>
    public const string PemLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";

    /// <summary>The PEM type older cosign releases wrote; still read, never written.</summary>
    public const string LegacyPemLabel = "ENCRYPTED COSIGN PRIVATE KEY";

    private const string KdfName = "scrypt";
    private const string CipherName = "nacl/secretbox";
    // What go-tuf's and securesystemslib's encrypted packages write by default and what every reader accepts:
    // skopeo/podman (containers/image through go-tuf) refuse any other N, and cosign reads it as its legacy setting.
    private const int WriteWorkFactor = 32768;
    private const int BlockSize = 8;
    private const int Parallelism = 1;
    private const int KeySize = 32;
    private const int SaltSize = 32;
    private const int NonceSize = 24;
    private const int TagSize = 16;

    // A PKCS#8 RSA-8192 key is under 5 KiB; anything far larger is not a key file.
    private const int MaxCiphertextBytes = 16 * 1024;

    /// <summary>
    /// The work factors decryption accepts (securesystemslib's list: older keys used 32768). Anything else is
    /// refused before scrypt runs, so a crafted file cannot make loading allocate gigabytes or spin for minutes.
    /// </summary>
    private static readonly int[] s_acceptedWorkFactors = [32768, 65536, 131072];

    public static bool IsCosignLabel(string label) => label is PemLabel or LegacyPemLabel;

    /// <summary>Seals a PKCS#8 DER private key under <paramref name="password"/> (which may be empty, as in cosign).</summary>
    public static string Encrypt(ReadOnlySpan<byte> pkcs8, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var key = DeriveKey(password, salt, WriteWorkFactor);
        byte[] sealedBox;
        try
        {
            sealedBox = SecretBox.Seal(pkcs8, nonce, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        var body = new JsonObject
        {
            ["kdf"] = new JsonObject
            {
                ["name"] = KdfName,
                ["params"] = new JsonObject { ["N"] = WriteWorkFactor, ["r"] = BlockSize, ["p"] = Parallelism },
                ["salt"] = Convert.ToBase64String(salt),
            },
            ["cipher"] = new JsonObject { ["name"] = CipherName, ["nonce"] = Convert.ToBase64String(nonce) },
            ["ciphertext"] = Convert.ToBase64String(sealedBox),
        };
        return Pem.Encode(PemLabel, Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    /// <summary>
    /// Opens the JSON body of a cosign key PEM block and returns the PKCS#8 DER inside. The password is asked for
    /// only once the body has parsed, so a damaged file fails without a pointless prompt.
    /// </summary>
    /// <exception cref="KeyLoadException">Malformed, unsupported parameters, or the password does not open it.</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> body, Func<string> password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var (workFactor, salt, nonce, sealedBox) = ReadBody(body);
        var key = DeriveKey(password(), salt, workFactor);
        try
        {
            return SecretBox.Open(sealedBox, nonce, key)
                ?? throw new KeyLoadException("could not decrypt the private key: wrong password or corrupted key file");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static (int WorkFactor, byte[] Salt, byte[] Nonce, byte[] SealedBox) ReadBody(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            var kdf = Property(root, "kdf", JsonValueKind.Object);
            if (Property(kdf, "name", JsonValueKind.String).GetString() != KdfName)
            {
                throw new KeyLoadException("the cosign key uses an unsupported key derivation (only scrypt is supported)");
            }

            var parameters = Property(kdf, "params", JsonValueKind.Object);
            if (!Property(parameters, "N", JsonValueKind.Number).TryGetInt32(out var workFactor)
                || !s_acceptedWorkFactors.Contains(workFactor)
                || !Property(parameters, "r", JsonValueKind.Number).TryGetInt32(out var blockSize) || blockSize != BlockSize
                || !Property(parameters, "p", JsonValueKind.Number).TryGetInt32(out var parallelism) || parallelism != Parallelism)
            {
                throw new KeyLoadException("the cosign key has unsupported scrypt parameters (N must be 32768, 65536 or 131072; r 8; p 1)");
            }

            var salt = Base64(kdf, "salt", 64);
            var cipher = Property(root, "cipher", JsonValueKind.Object);
            if (Property(cipher, "name", JsonValueKind.String).GetString() != CipherName)
            {
                throw new KeyLoadException("the cosign key uses an unsupported cipher (only nacl/secretbox is supported)");
            }

            var nonce = Base64(cipher, "nonce", NonceSize);
            if (nonce.Length != NonceSize || salt.Length == 0)
            {
                throw new KeyLoadException("the cosign key has a malformed salt or nonce");
            }

            var sealedBox = Base64(root, "ciphertext", MaxCiphertextBytes);
            if (sealedBox.Length <= TagSize)
            {
                throw new KeyLoadException("the cosign key's ciphertext is truncated");
            }

            return (workFactor, salt, nonce, sealedBox);
        }
        catch (JsonException ex)
        {
            throw new KeyLoadException("the cosign key file is truncated or corrupted (its body is not valid JSON)", ex);
        }
    }

    private static JsonElement Property(JsonElement parent, string name, JsonValueKind kind)
    {
        // Go's encoding/json matches field names case-insensitively; keys written by other tools may differ in case.
        if (parent.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in parent.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == kind)
                {
                    return property.Value;
                }
            }
        }

        throw new KeyLoadException($"the cosign key file is truncated or corrupted (no valid '{name}')");
    }

    private static byte[] Base64(JsonElement parent, string name, int maxBytes)
    {
        var text = Property(parent, name, JsonValueKind.String).GetString() ?? string.Empty;
        if (text.Length > ((maxBytes + 2) / 3 * 4))
        {
            throw new KeyLoadException($"the cosign key's '{name}' is too large");
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException($"the cosign key file is truncated or corrupted ('{name}' is not base64)", ex);
        }
    }

    private static byte[] DeriveKey(string password, byte[] salt, int workFactor)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        try
        {
            return SCrypt.Generate(passwordBytes, salt, workFactor, BlockSize, Parallelism, KeySize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    /// <summary>
    /// NaCl <c>crypto_secretbox</c> (XSalsa20-Poly1305): the first 32 bytes of the XSalsa20 key stream key
    /// Poly1305, the rest encrypts the message, and the tag covers the ciphertext (encrypt-then-MAC).
    /// </summary>
    private static class SecretBox
    {
        public static byte[] Seal(ReadOnlySpan<byte> message, byte[] nonce, byte[] key)
        {
            var stream = Start(nonce, key, out var macKey);
            var output = new byte[TagSize + message.Length];
            var plain = message.ToArray();
            try
            {
                stream.ProcessBytes(plain, 0, plain.Length, output, TagSize);
                Tag(macKey, output.AsSpan(TagSize)).CopyTo(output, 0);
                return output;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
                CryptographicOperations.ZeroMemory(macKey);
            }
        }

        /// <summary>The plaintext, or null when the tag does not match (wrong key or altered bytes).</summary>
        public static byte[]? Open(byte[] sealedBox, byte[] nonce, byte[] key)
        {
            var stream = Start(nonce, key, out var macKey);
            try
            {
                var expected = Tag(macKey, sealedBox.AsSpan(TagSize));
                if (!CryptographicOperations.FixedTimeEquals(expected, sealedBox.AsSpan(0, TagSize)))
                {
                    return null;
                }

                var plain = new byte[sealedBox.Length - TagSize];
                stream.ProcessBytes(sealedBox, TagSize, plain.Length, plain, 0);
                return plain;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(macKey);
            }
        }

        private static XSalsa20Engine Start(byte[] nonce, byte[] key, out byte[] macKey)
        {
            var engine = new XSalsa20Engine();
            engine.Init(true, new ParametersWithIV(new KeyParameter(key), nonce));
            macKey = new byte[32];
            engine.ProcessBytes(new byte[32], 0, 32, macKey, 0);
            return engine;
        }

        private static byte[] Tag(byte[] macKey, ReadOnlySpan<byte> cipherText)
        {
            var mac = new Poly1305();
            mac.Init(new KeyParameter(macKey));
            var data = cipherText.ToArray();
            mac.BlockUpdate(data, 0, data.Length);
            var tag = new byte[TagSize];
            mac.DoFinal(tag, 0);
            return tag;
        }
    }
}
