using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Real, correctly signed hashedrekord proposals (ECDSA P-256 over SHA-256 of a random artifact), made before the clock
/// starts so the load generator spends its CPU on HTTP, not on signing. By default every proposal has its own key, as
/// keyless signers each hold an ephemeral one: the log can keep nothing per key from one entry to the next. A pool of
/// long-lived keys (<c>--signer-keys N</c>, CI signers with a key file) is the other case to measure.
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
    public static Proposals Sign(int count, int signerKeys = 0)
    {
        var pool = new (ECDsa Key, string PublicKeyBase64)[signerKeys];
        for (var k = 0; k < pool.Length; k++)
        {
            pool[k] = NewKey();
        }

        var bodies = new byte[count][];
        Parallel.For(0, count, i =>
        {
            var (key, publicKey) = pool.Length > 0 ? pool[i % pool.Length] : NewKey();
            var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(64));
            var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            bodies[i] = Encoding.UTF8.GetBytes(HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), publicKey));
            if (pool.Length == 0)
            {
                key.Dispose();
            }
        });

        foreach (var (key, _) in pool)
        {
            key.Dispose();
        }

        return new Proposals(bodies);
    }

    private static (ECDsa Key, string PublicKeyBase64) NewKey()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem() + "\n")));
    }

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
