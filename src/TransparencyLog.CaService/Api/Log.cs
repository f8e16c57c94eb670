namespace TransparencyLog.CaService.Api;

/// <summary>API log events. The audit event is the one record of an issuance; it never carries the token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, EventName = "CertificateIssued",
        Message = "Issued certificate {Serial} to {Identity} from {Issuer} for key {KeyFingerprint} (SCT log index {SctLogIndex}) via {Transport}")]
    public static partial void CertificateIssued(
        ILogger logger, string serial, string identity, string issuer, string keyFingerprint, long? sctLogIndex, string transport);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, EventName = "CertificateRefused",
        Message = "Refused a certificate request via {Transport}: {ErrorCode} {Message}")]
    public static partial void CertificateRefused(ILogger logger, string transport, string errorCode, string message);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, EventName = "CertificateRequestFailed",
        Message = "A certificate request failed unexpectedly via {Transport}")]
    public static partial void CertificateRequestFailed(ILogger logger, Exception exception, string transport);
}
