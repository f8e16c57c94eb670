using Microsoft.Extensions.Options;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>Rules across fields that data annotations cannot express; failures stop start-up.</summary>
internal sealed class TimestampingOptionsValidator : IValidateOptions<TimestampingOptions>
{
    public ValidateOptionsResult Validate(string? name, TimestampingOptions options)
    {
        var failures = new List<string>();
        var backend = options.Backend;
        if (string.Equals(backend, TimestampingBackends.File, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.CertificateChainPath))
            {
                failures.Add("Timestamping:CertificateChainPath is required with the file backend.");
            }

            if (string.IsNullOrWhiteSpace(options.PrivateKeyPath))
            {
                failures.Add("Timestamping:PrivateKeyPath is required with the file backend.");
            }

            if (options.PrivateKeyPasswordFile is not null && options.PrivateKeyPasswordEnvironmentVariable is not null)
            {
                failures.Add("Set at most one of Timestamping:PrivateKeyPasswordFile and Timestamping:PrivateKeyPasswordEnvironmentVariable.");
            }
        }
        else if (!string.Equals(backend, TimestampingBackends.Development, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Timestamping:Backend must be '{TimestampingBackends.Development}' or '{TimestampingBackends.File}'.");
        }

        foreach (var oid in options.AcceptedPolicyOids.Prepend(options.DefaultPolicyOid))
        {
            if (Oids.ValidatePolicy(oid) is { } problem)
            {
                failures.Add($"Timestamping policy '{oid}': {problem}.");
            }
            else if (!Oids.IsDecodable(oid))
            {
                // Requests are decoded with AsnReader; a policy it cannot decode could never be matched.
                failures.Add($"Timestamping policy '{oid}': more arcs or larger arcs than requests can be matched against (64 arcs of 128 bits).");
            }
        }

        if (options.MaxJsonRequestBytes > options.MaxRequestBytes)
        {
            failures.Add("Timestamping:MaxJsonRequestBytes must not exceed Timestamping:MaxRequestBytes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
