using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>
/// The token's signature against every algorithm family an issuer may use (RS, PS, ES on each curve), with an issuer
/// whose JWKS file holds one key of each kind: the signature must verify with the key the token names (or, without a
/// <c>kid</c>, with some key of the issuer), under the algorithm the header names, and nothing else verifies.
/// </summary>
public sealed class TokenSignatureTests(TokenSignatureTests.Issuer issuer) : IClassFixture<TokenSignatureTests.Issuer>
{
    private const string Iss = "https://tokens.offline.example";

    [Theory]
    [InlineData("RS256", "rsa")]
    [InlineData("RS384", "rsa")]
    [InlineData("PS256", "rsa")]
    [InlineData("PS512", "rsa")]
    [InlineData("ES256", "p256")]
    [InlineData("ES384", "p384")]
    [InlineData("ES512", "p521")]
    public async Task SigningCert_SignedWithTheNamedKey_Returns201(string alg, string kid)
    {
        var token = issuer.Sign(alg, kid, Payload());

        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("ES256", "p256")]
    [InlineData("RS256", "rsa")]
    public async Task SigningCert_NoKid_TriesEveryKeyOfTheIssuer_Returns201(string alg, string key)
    {
        var token = issuer.Sign(alg, key, Payload(), headerKid: null);

        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_NoKidAndNoKeyOfTheIssuerSigned_Returns400()
    {
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var token = Jws.SignEs256(stranger, new { alg = "ES256" }, Payload());

        await AssertRejectedAsync(token);
    }

    [Theory]
    // A key of the wrong curve or family under the algorithm the header names: JWS binds ES256 to P-256, and so on.
    [InlineData("ES256", "p384")]
    [InlineData("ES384", "p256")]
    [InlineData("ES512", "p384")]
    [InlineData("RS256", "p256")]
    [InlineData("ES256", "rsa")]
    public async Task SigningCert_KeyOfAnotherKindThanTheAlgorithm_Returns400(string alg, string kid)
    {
        var token = issuer.Sign(alg, kid, Payload(), signAs: kid is "rsa" ? "RS256" : AlgForCurve(kid));

        await AssertRejectedAsync(token);
    }

    [Theory]
    // A valid signature by the named key with the algorithm's hash, but on a curve the algorithm does not name.
    [InlineData("ES256", "p384")]
    [InlineData("ES384", "p256")]
    [InlineData("ES512", "p384")]
    public async Task SigningCert_EcKeyOfAnotherCurveSigningWithTheAlgorithmsHash_Returns400(string alg, string kid)
    {
        var token = issuer.Sign(alg, kid, Payload());

        await AssertRejectedAsync(token);
    }

    [Theory]
    [InlineData("RS256", "rsa")]
    [InlineData("PS256", "rsa")]
    [InlineData("ES256", "p256")]
    public async Task SigningCert_PayloadChangedAfterSigning_Returns400(string alg, string kid)
    {
        var token = issuer.Sign(alg, kid, Payload("alice@example.com"));
        var parts = token.Split('.');
        var forged = parts[0] + "." + Jws.Encode(Payload("mallory@example.com")) + "." + parts[2];

        await AssertRejectedAsync(forged, "mallory@example.com");
    }

    [Theory]
    // RS256 and PS256 are different schemes over the same key: a PKCS#1 v1.5 signature is not a PSS one.
    [InlineData("RS256", "PS256")]
    [InlineData("PS256", "RS256")]
    [InlineData("RS256", "RS384")]
    public async Task SigningCert_SignatureOfAnotherScheme_Returns400(string headerAlg, string signedAs)
    {
        var token = issuer.Sign(headerAlg, "rsa", Payload(), signAs: signedAs);

        await AssertRejectedAsync(token);
    }

    [Fact]
    public async Task SigningCert_EcdsaSignatureInDerInsteadOfJwsForm_Returns400()
    {
        var token = issuer.Sign("ES256", "p256", Payload(), derSignature: true);

        await AssertRejectedAsync(token);
    }

    [Theory]
    [InlineData("not*base64url")]
    [InlineData("AAAA")]
    public async Task SigningCert_SignaturePartNotASignature_Returns400(string signature)
    {
        var token = issuer.Sign("ES256", "p256", Payload());
        var forged = token[..(token.LastIndexOf('.') + 1)] + signature;

        await AssertRejectedAsync(forged);
    }

    [Theory]
    // The audience is compared exactly, as go-oidc (Fulcio) does: no trailing-slash or case leniency.
    [InlineData("sigstore/")]
    [InlineData("Sigstore")]
    [InlineData(5)]
    public async Task SigningCert_AudienceNotExactlyTheConfiguredOne_Returns400(object aud)
    {
        var payload = Payload();
        payload["aud"] = new object[] { aud };
        var token = issuer.Sign("ES256", "p256", payload);

        await AssertRejectedAsync(token);
    }

    private static string AlgForCurve(string kid) => kid switch { "p256" => "ES256", "p384" => "ES384", _ => "ES512" };

    private static Dictionary<string, object?> Payload(string email = "alice@example.com")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new()
        {
            ["iss"] = Iss,
            ["sub"] = email,
            ["aud"] = "sigstore",
            ["exp"] = now + 600,
            ["iat"] = now,
            ["email"] = email,
            ["email_verified"] = true,
        };
    }

    private async Task<HttpResponseMessage> PostAsync(string token, string challenge = "alice@example.com")
    {
        using var key = new TestKey();
        return await CaResponses.PostSigningCertAsync(issuer.Ca.Rest, key.RequestJson(token, challenge));
    }

    private async Task AssertRejectedAsync(string token, string challenge = "alice@example.com")
    {
        using var response = await PostAsync(token, challenge);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {response.StatusCode}: {body}");
        var error = CaResponses.Error(body);
        Assert.Equal(3, error.Code);
        Assert.DoesNotContain(token.Split('.')[2], body, StringComparison.Ordinal);
    }

    /// <summary>An air-gapped issuer (JWKS file) with an RSA-2048 key and one EC key per curve, and a CA trusting it
    /// for RS256, RS384, PS256, PS512, ES256, ES384 and ES512.</summary>
    public sealed class Issuer : IAsyncLifetime
    {
        private readonly Dictionary<string, AsymmetricAlgorithm> _keys = new()
        {
            ["rsa"] = RSA.Create(2048),
            ["p256"] = ECDsa.Create(ECCurve.NamedCurves.nistP256),
            ["p384"] = ECDsa.Create(ECCurve.NamedCurves.nistP384),
            ["p521"] = ECDsa.Create(ECCurve.NamedCurves.nistP521),
        };

        private readonly string _jwksPath = Path.GetTempFileName();

        public CaServer Ca { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var keys = _keys.Select(pair => pair.Value switch
            {
                RSA rsa => (object)new
                {
                    kty = "RSA",
                    kid = pair.Key,
                    use = "sig",
                    n = Base64Url.EncodeToString(rsa.ExportParameters(false).Modulus),
                    e = Base64Url.EncodeToString(rsa.ExportParameters(false).Exponent),
                },
                ECDsa ec => new
                {
                    kty = "EC",
                    kid = pair.Key,
                    use = "sig",
                    crv = ec.KeySize switch { 256 => "P-256", 384 => "P-384", _ => "P-521" },
                    x = Base64Url.EncodeToString(ec.ExportParameters(false).Q.X),
                    y = Base64Url.EncodeToString(ec.ExportParameters(false).Q.Y),
                },
                _ => throw new InvalidOperationException(),
            });
            await File.WriteAllTextAsync(_jwksPath, JsonSerializer.Serialize(new { keys }));
            var settings = new Dictionary<string, string?>
            {
                ["Api:RateLimits:PerAddressPermits"] = "0",
                ["Api:RateLimits:PerIdentityPermits"] = "0",
                ["Identity:Issuers:0:IssuerUrl"] = Iss,
                ["Identity:Issuers:0:Type"] = "email",
                ["Identity:Issuers:0:JwksFile"] = _jwksPath,
            };
            string[] algorithms = ["RS256", "RS384", "PS256", "PS512", "ES256", "ES384", "ES512"];
            for (var i = 0; i < algorithms.Length; i++)
            {
                settings[$"Identity:Issuers:0:AllowedAlgorithms:{i}"] = algorithms[i];
            }

            Ca = CaServer.Start(settings);
        }

        /// <summary>A JWS compact token with header <c>{"alg": alg, "kid": headerKid}</c> (no kid when null), signed
        /// with key <paramref name="key"/> under <paramref name="signAs"/> (default: the header's algorithm).</summary>
        public string Sign(string alg, string key, object payload, string? headerKid = "", string? signAs = null, bool derSignature = false)
        {
            var kid = headerKid == "" ? key : headerKid;
            object header = kid is null ? new { alg, typ = "JWT" } : new { alg, kid, typ = "JWT" };
            var input = Jws.Encode(header) + "." + Jws.Encode(payload);
            var data = Encoding.ASCII.GetBytes(input);
            signAs ??= alg;
            var hash = signAs[2..] switch { "256" => HashAlgorithmName.SHA256, "384" => HashAlgorithmName.SHA384, _ => HashAlgorithmName.SHA512 };
            var signature = _keys[key] switch
            {
                RSA rsa => rsa.SignData(data, hash, signAs.StartsWith("PS", StringComparison.Ordinal) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
                ECDsa ec => ec.SignData(data, hash, derSignature ? DSASignatureFormat.Rfc3279DerSequence : DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                _ => throw new InvalidOperationException(),
            };
            return input + "." + Base64Url.EncodeToString(signature);
        }

        public async Task DisposeAsync()
        {
            await Ca.DisposeAsync();
            foreach (var key in _keys.Values)
            {
                key.Dispose();
            }

            File.Delete(_jwksPath);
        }
    }
}
