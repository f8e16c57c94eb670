namespace TransparencyLog.CaService.Identity;

/// <summary>Identity log events. Tokens are never logged; only the issuer and the kind of failure.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Identity token from {Issuer} rejected: {Failure}")]
    public static partial void TokenRejected(ILogger logger, string issuer, string failure);
}
