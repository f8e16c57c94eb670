using Microsoft.Extensions.Logging;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>Timestamping log events. Never a key, a password or request bytes.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "Issued timestamp {Serial} ({HashAlgorithm}, policy {Policy}, nonce {HasNonce}, certificates {CertificatesIncluded})")]
    public static partial void TimestampIssued(ILogger logger, string serial, string hashAlgorithm, string policy, bool hasNonce, bool certificatesIncluded);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Timestamp request rejected ({Status}): {Reason}")]
    public static partial void TimestampRejected(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Timestamp authority ready: backend {Backend}, certificate '{Subject}' serial {CertificateSerial}, valid until {NotAfter:O}")]
    public static partial void SignerReady(ILogger logger, string backend, string subject, string certificateSerial, DateTime notAfter);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Development timestamp authority: generated a new root and TSA certificate ({Location}); do not use in production")]
    public static partial void DevelopmentCertificatesGenerated(ILogger logger, string location);
}
