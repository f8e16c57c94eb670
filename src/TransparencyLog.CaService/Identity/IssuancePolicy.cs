using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Per-issuer allow rules evaluated on verified claims, before any key is looked at (certificate-authority.md §7.1:
/// Fulcio issues to any valid token; operators of a private CA usually want to narrow that).
/// </summary>
internal static class IssuancePolicy
{
    public static void Evaluate(TrustedIssuer issuer, TokenClaims claims)
    {
        var policy = issuer.Options.Policy;
        if (policy is null)
        {
            return;
        }

        if (policy.EmailDomains.Count > 0)
        {
            var email = claims.GetString("email") ?? "";
            var domain = email[(email.LastIndexOf('@') + 1)..];
            if (!policy.EmailDomains.Contains(domain, StringComparer.OrdinalIgnoreCase))
            {
                throw Denied($"email domain '{domain}' is not allowed by the issuance policy of this issuer");
            }
        }

        if (policy.RepositoryOwners.Count > 0)
        {
            var owner = issuer.Type switch
            {
                IssuerType.GitlabPipeline => claims.GetString("namespace_path")?.Split('/')[0],
                IssuerType.BuildkiteJob => claims.GetString("organization_slug"),
                _ => claims.GetString("repository_owner"),
            } ?? "";
            if (!policy.RepositoryOwners.Contains(owner, StringComparer.Ordinal))
            {
                throw Denied($"repository owner '{owner}' is not allowed by the issuance policy of this issuer");
            }
        }

        if (policy.Namespaces.Count > 0)
        {
            var ns = issuer.Type == IssuerType.Kubernetes ? PrincipalFactory.KubernetesIdentity(claims).Namespace : "";
            if (!policy.Namespaces.Contains(ns, StringComparer.Ordinal))
            {
                throw Denied($"namespace '{ns}' is not allowed by the issuance policy of this issuer");
            }
        }
    }

    private static CaException Denied(string message) => new(CaErrorCode.PolicyDenied, message);
}
