namespace TransparencyLog.Admission.Webhook;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Admission decision {Verdict} for {ReviewUid}: {Decision}")]
    public static partial void Decision(ILogger logger, string verdict, string reviewUid, string decision);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Rejected an AdmissionReview: {Reason}")]
    public static partial void MalformedReview(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Loaded {PolicyCount} policies and {TrustRootCount} trust roots from {Directory} (policy generation {PolicyGeneration}, trust-root generation {TrustRootGeneration})")]
    public static partial void PoliciesLoaded(ILogger logger, int policyCount, int trustRootCount, string directory, string policyGeneration, string trustRootGeneration);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Policies in {Directory} refused, the previous ones stay in force: {Problem}")]
    public static partial void PoliciesRefused(ILogger logger, string directory, string problem);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Admission webhook listening on {Url}")]
    public static partial void Listening(ILogger logger, string url);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Serving certificate {CertificatePath} reloaded (valid until {NotAfter:O})")]
    public static partial void ServingCertificateReloaded(ILogger logger, string certificatePath, DateTime notAfter);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "Serving certificate {CertificatePath} and key {KeyPath} changed but do not load ({Error}); the previous certificate stays in use")]
    public static partial void ServingCertificateRefused(ILogger logger, string certificatePath, string keyPath, string error);
}
