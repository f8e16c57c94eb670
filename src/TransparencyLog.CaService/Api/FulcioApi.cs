using System.Text;
using System.Threading.RateLimiting;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// The three RPCs of <c>dev.sigstore.fulcio.v2.CA</c>, independent of transport: REST and gRPC parse their
/// request into the same message, call here, and map a <see cref="CaException"/> through <see cref="CaErrorMap"/>.
/// </summary>
internal sealed class FulcioApi(
    TokenVerifier verifier,
    CertificateIssuer issuer,
    IssuerPool issuers,
    IdentityRateLimiter identityLimiter,
    ILogger<FulcioApi> logger)
{
    public async Task<SigningCertificate> CreateSigningCertificateAsync(
        CreateSigningCertificateRequest request, string? authorization, string transport, CancellationToken ct)
    {
        var issuerType = "unknown";
        try
        {
            // The body wins over the header (Fulcio cmd/app/http.go); sigstore-js sends only the body, sigstore-go
            // and sigstore-python only the header.
            var token = request.Credentials?.OidcIdentityToken is { Length: > 0 } fromBody ? fromBody : BearerToken(authorization);
            if (token is null)
            {
                CaMetrics.TokenVerificationFailures.WithLabels("missing").Inc();
                throw new CaException(CaErrorCode.InvalidIdentityToken,
                    "no identity token: send credentials.oidcIdentityToken or an 'Authorization: Bearer' header");
            }

            var principal = await VerifyAsync(token, ct);
            issuerType = issuers.Match(principal.Issuer)?.Type.ToName() ?? issuerType;
            identityLimiter.Acquire(principal);

            using var key = request.KeyCase switch
            {
                CreateSigningCertificateRequest.KeyOneofCase.PublicKeyRequest => KeyWithProof(request.PublicKeyRequest, principal),
                CreateSigningCertificateRequest.KeyOneofCase.CertificateSigningRequest => SubmittedKey.FromCsr(request.CertificateSigningRequest.ToByteArray()),
                _ => throw new CaException(CaErrorCode.InvalidRequest, "the request has neither publicKeyRequest nor certificateSigningRequest"),
            };

            var issued = await issuer.IssueAsync(principal, key, ct);
            CaMetrics.NewCertificates.Inc();
            CaMetrics.Certificates.WithLabels(issuerType, "issued").Inc();
            Log.CertificateIssued(logger, issued.SerialHex, principal.San.Value, principal.Issuer, key.Fingerprint, issued.SctLogIndex, transport);
            var chain = new CertificateChain { Certificates = { issued.ChainPem } };
            return issued.DetachedSct is { } sct
                ? new SigningCertificate
                {
                    SignedCertificateDetachedSct = new SigningCertificateDetachedSCT { Chain = chain, SignedCertificateTimestamp = ByteString.CopyFrom(sct) },
                }
                : new SigningCertificate { SignedCertificateEmbeddedSct = new SigningCertificateEmbeddedSCT { Chain = chain } };
        }
        catch (CaException e)
        {
            CaMetrics.Certificates.WithLabels(issuerType, CaMetrics.Label(e.Code)).Inc();
            Log.CertificateRefused(logger, transport, e.Code.ToString(), e.Message);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The exception text stays in the log; the client gets the fixed internal message.
            CaMetrics.Certificates.WithLabels(issuerType, CaMetrics.Label(CaErrorCode.Internal)).Inc();
            Log.CertificateRequestFailed(logger, e, transport);
            throw new CaException(CaErrorCode.Internal, "error communicating with CA backend");
        }
    }

    public TrustBundle GetTrustBundle()
    {
        var bundle = new TrustBundle();
        foreach (var chain in issuer.TrustBundle)
        {
            bundle.Chains.Add(new CertificateChain { Certificates = { chain } });
        }

        return bundle;
    }

    public Configuration GetConfiguration()
    {
        var configuration = new Configuration();
        foreach (var trusted in issuers.All)
        {
            var options = trusted.Options;
            var entry = new OIDCIssuer
            {
                Audience = options.Audience,
                ChallengeClaim = trusted.Type == IssuerType.Email ? "email" : "sub",
                SpiffeTrustDomain = options.SpiffeTrustDomain ?? "",
                IssuerType = trusted.Type.ToName(),
                SubjectDomain = options.SubjectDomain ?? "",
            };
            if (options.IssuerUrl is { } url)
            {
                entry.IssuerUrl = url;
            }
            else
            {
                entry.WildcardIssuerUrl = options.WildcardIssuerUrl ?? "";
            }

            configuration.Issuers.Add(entry);
        }

        return configuration;
    }

    private async Task<Principal> VerifyAsync(string token, CancellationToken ct)
    {
        try
        {
            return await verifier.VerifyAsync(token, ct);
        }
        catch (CaException e)
        {
            CaMetrics.TokenVerificationFailures.WithLabels(CaMetrics.Label(e.Code)).Inc();
            throw;
        }
    }

    private static string? BearerToken(string? authorization)
    {
        const string Scheme = "Bearer ";
        return authorization is not null && authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && authorization.Length > Scheme.Length ? authorization[Scheme.Length..].Trim() : null;
    }

    private static SubmittedKey KeyWithProof(PublicKeyRequest request, Principal principal)
    {
        if (request.PublicKey is not { Content.Length: > 0 } publicKey)
        {
            throw new CaException(CaErrorCode.InvalidPublicKey, "publicKeyRequest.publicKey.content is empty");
        }

        var key = SubmittedKey.FromPublicKey(publicKey.Content);
        var proof = request.ProofOfPossession.Span;
        // Clients sign the email when the token has one and the subject otherwise (older ones always the
        // subject): either verifying is proof enough, since both name the same verified identity.
        foreach (var candidate in principal.ChallengeCandidates)
        {
            if (key.VerifyProofOfPossession(Encoding.UTF8.GetBytes(candidate), proof))
            {
                return key;
            }
        }

        key.Dispose();
        throw new CaException(CaErrorCode.InvalidProofOfPossession,
            "the proof of possession does not verify: sign the token's email claim (or its subject) with the submitted key");
    }
}

/// <summary>Certificates per verified identity per window: applied after verification, so it cannot be spent
/// on someone else's behalf with an unverified token.</summary>
internal sealed class IdentityRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public IdentityRateLimiter(IOptions<ApiOptions> options)
    {
        var limits = options.Value.RateLimits;
        if (limits.PerIdentityPermits > 0)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(identity => RateLimitPartition.GetFixedWindowLimiter(identity,
                _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.PerIdentityPermits, Window = limits.Window, QueueLimit = 0 }));
        }
    }

    public void Acquire(Principal principal)
    {
        if (_limiter is null)
        {
            return;
        }

        using var lease = _limiter.AttemptAcquire(principal.Issuer + "\n" + principal.San.Value);
        if (!lease.IsAcquired)
        {
            throw new CaException(CaErrorCode.RateLimited, RateLimitMessages.PerIdentity);
        }
    }

    public void Dispose() => _limiter?.Dispose();
}

/// <summary>Stable client messages of the rate limits.</summary>
internal static class RateLimitMessages
{
    public const string PerIdentity = "rate limit exceeded for this identity; retry later";
    public const string PerAddress = "rate limit exceeded for this client address; retry later";
}
