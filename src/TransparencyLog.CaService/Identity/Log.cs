namespace TransparencyLog.CaService.Identity;

/// <summary>Identity log events. Tokens are never logged; only the issuer and the kind of failure.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Identity token from {Issuer} rejected: {Failure}")]
    public static partial void TokenRejected(ILogger logger, string issuer, string failure);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, EventName = "IssuersReloaded",
        Message = "Trusted OIDC issuers reloaded: {Count} trusted; added [{Added}]; removed [{Removed}]")]
    public static partial void IssuersReloaded(ILogger logger, int count, string added, string removed);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, EventName = "IssuersReloadFailed",
        Message = "Trusted OIDC issuers NOT reloaded, the last good configuration ({Count} issuers) stays in force: {Errors}")]
    public static partial void IssuersReloadFailed(ILogger logger, int count, string errors);
}
