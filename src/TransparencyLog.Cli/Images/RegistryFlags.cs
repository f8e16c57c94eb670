using System.CommandLine;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Cli.Images;

/// <summary>The registry flags every image command shares, and the clients they configure (one per registry host).</summary>
internal sealed class RegistryFlags
{
    public Option<string?> Username { get; } = new("--registry-username")
    {
        Description = "User name for the registry (else ~/.docker/config.json and its credential helpers) [env: TLOG_REGISTRY_USERNAME].",
        HelpName = "USER",
    };

    public Option<string?> Password { get; } = new("--registry-password")
    {
        Description = "Password or token for the registry; prefer the TLOG_REGISTRY_PASSWORD environment variable.",
        HelpName = "PASSWORD",
    };

    public Option<string?> CaCert { get; } = new("--registry-cacert")
    {
        Description = "PEM file of CA certificates to trust for the registry's HTTPS certificate instead of the system store (HTTPS then also for a loopback registry).",
        HelpName = "PEM",
    };

    public Option<bool> AllowInsecure { get; } = new("--allow-insecure-registry")
    {
        Description = "Use plain HTTP for a registry that is not on loopback (loopback registries use HTTP unless --registry-cacert is given).",
    };

    public void AddTo(Command command)
    {
        CommandActions.AddOptions(command, Username, Password, CaCert, AllowInsecure);
    }

    public RegistryConnections Resolve(ParseResult parseResult, CliHost host)
    {
        var username = CommandActions.FlagOrEnv(parseResult, Username, host, "TLOG_REGISTRY_USERNAME");
        var password = CommandActions.FlagOrEnv(parseResult, Password, host, "TLOG_REGISTRY_PASSWORD");
        if ((username is null) != (password is null))
        {
            throw new CliException(ExitCodes.Usage, "--registry-username and --registry-password go together");
        }

        var http = host.Context.Http;
        var caPath = parseResult.GetValue(CaCert);
        if (caPath is not null)
        {
            http = HttpWithRoots(caPath);
        }

        var flags = username is null ? null : new RegistryCredential(username, password ?? string.Empty);
        var context = host.Context;
        return new RegistryConnections(
            http,
            registry => flags ?? RegistryCredentials.Find(registry, context.Env, context.HomeDirectory),
            parseResult.GetValue(AllowInsecure),
            requireTls: caPath is not null);
    }

    private static HttpClient HttpWithRoots(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException)
        {
            throw new CliException(ExitCodes.Usage, $"--registry-cacert '{path}' is not a readable PEM file of certificates");
        }

        if (roots.Count == 0)
        {
            throw new CliException(ExitCodes.Usage, $"--registry-cacert '{path}' holds no certificate");
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Revocation is not checked, as docker and cosign (Go's crypto/x509) do not: a private registry CA
                // rarely publishes CRLs, and an online check would fail every connection on "revocation unknown".
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }
}

/// <summary>
/// <c>--signature-repository</c> [env <c>COSIGN_REPOSITORY</c>, as cosign reads it]: store or read signatures and
/// attestations in another repository (even another registry) than the image's: the same <c>sha256-HEX.sig</c>/<c>.att</c>
/// tags and bundle referrers, there. The signed payload still names the image's own repository.
/// </summary>
internal sealed class SignatureRepositoryFlag
{
    public Option<string?> Option { get; } = new("--signature-repository")
    {
        Description = "REGISTRY/REPO where signatures and attestations are stored instead of beside the image [env: COSIGN_REPOSITORY].",
        HelpName = "REGISTRY/REPO",
    };

    public ImageReference? Resolve(ParseResult parseResult, CliHost host) =>
        CommandActions.FlagOrEnv(parseResult, Option, host, "COSIGN_REPOSITORY") is { } text ? ImageReference.ParseRepository(text) : null;
}
