using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Real, correctly signed hashedrekord proposals (ECDSA P-256 over SHA-256 of a random artifact), made before the clock
/// starts so the load generator spends its CPU on HTTP, not on signing. Keys rotate over a small pool, as ephemeral
/// keyless signers would spread them, so the search index sees many public keys rather than one hot key.
/// </summary>
internal sealed class Proposals
{
    private const int KeyCount = 64;

    private readonly byte[][] _bodies;
    private int _next = -1;

    private Proposals(byte[][] bodies)
    {
        _bodies = bodies;
    }

    public int Count => _bodies.Length;

    /// <summary>How many proposals have been handed out.</summary>
    public int Used => Math.Min(Volatile.Read(ref _next) + 1, _bodies.Length);

    public static Proposals Sign(int count)
    {
        var keys = new (ECDsa Key, string PublicKeyBase64)[KeyCount];
        for (var k = 0; k < keys.Length; k++)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            keys[k] = (key, Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem() + "\n")));
        }

        var bodies = new byte[count][];
        Parallel.For(0, count, i =>
        {
            var (key, publicKey) = keys[i % KeyCount];
            var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(64));
            var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            bodies[i] = Encoding.UTF8.GetBytes(HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), publicKey));
        });

        foreach (var (key, _) in keys)
        {
            key.Dispose();
        }

        return new Proposals(bodies);
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
