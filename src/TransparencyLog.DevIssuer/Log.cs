namespace TransparencyLog.DevIssuer;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "DEVELOPMENT OIDC ISSUER at {IssuerUrl}: NOT FOR PRODUCTION. It mints a token for any identity to anyone who can reach it.")]
    public static partial void DevelopmentIssuerStarted(ILogger logger, string issuerUrl);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Minted a token for sub {Subject}, aud {Audience}, ttl {TtlSeconds} s")]
    public static partial void TokenMinted(ILogger logger, string subject, string audience, int ttlSeconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Wrote this issuer's entry for the CA to {Path}: a CA reading that directory trusts it")]
    public static partial void CaIssuerEntryWritten(ILogger logger, string path);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Removed this issuer's entry for the CA from {Path}")]
    public static partial void CaIssuerEntryRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Could not write or remove this issuer's entry for the CA at {Path}")]
    public static partial void CaIssuerEntryFailed(ILogger logger, Exception exception, string path);
}
